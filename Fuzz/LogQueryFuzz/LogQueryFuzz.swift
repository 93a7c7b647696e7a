// Fuzz target for the KQL (log query) parser, evaluator and printer.
//
// Built by `Fuzz/run kql` with `-sanitize=fuzzer,address -D FUZZING -parse-as-library`, this
// file is a libFuzzer target: libFuzzer's driver calls `LLVMFuzzerTestOneInput` with each input.
// Built normally (`swift build`), it is a replay tool that runs the same check over files, so
// that the committed corpus is a regression test of every ordinary build:
//
//     .build/debug/LogQueryFuzz Fuzz/corpus/kql [MORE_FILES_OR_DIRS…]
//
// The check: parse the input as query text (invalid UTF-8 is repaired, as a JSON body would
// be). A LogQueryError is the right answer to a bad query, and must point inside the text. A
// query that parses is run over two small tables (a runtime error is fine, if it points inside
// the text) and printed: the printed text must parse again, print the same, and give the same
// result or the same error. A crash, a trap, a hang or a mismatch is a bug.
//
// The file is not called main.swift: the fuzzing build needs -parse-as-library, and then a
// main.swift may hold no top-level code even inside an inactive #if branch. The replay tool
// uses `@main` instead.
import Foundation
import LogQuery

/// Runs the check over one input. Returns nil when the engine behaved, otherwise what went wrong.
func checkInput(_ bytes: UnsafeRawBufferPointer) -> String? {
    let text = String(decoding: bytes, as: UTF8.self)
    let length = text.unicodeScalars.count
    let query: LogQuery
    do {
        query = try LogQuery(parsing: text)
    } catch {
        _ = error.render(query: text)
        return (0...length).contains(error.position) ? nil : "error position \(error.position) outside the \(length) characters: \(error)"
    }
    let result = outcome(of: query)
    if case .failure(let error) = result, !(0...length).contains(error.position) {
        return "runtime error position \(error.position) outside the \(length) characters: \(error)"
    }
    return checkRoundTrip(query, result)
}

/// The printed query parses, prints the same, and runs to the same table or the same error.
/// Printing may lengthen a query (escapes, brackets), so the reparse has no length limit.
func checkRoundTrip(_ query: LogQuery, _ result: Result<LogTable, LogQueryError>) -> String? {
    let printed = query.description
    let again: LogQuery
    do {
        again = try LogQuery(parsing: printed, maxLength: .max)
    } catch {
        return "the printed query does not parse: \(printed): \(error)"
    }
    if again.description != printed { return "the printed query prints differently: \(printed) → \(again.description)" }
    switch (result, outcome(of: again)) {
    case (.success(let a), .success(let b)) where a == b: return nil
    case (.failure(let a), .failure(let b)) where a.kind == b.kind && a.message == b.message: return nil
    case (let a, let b): return "the printed query gives another result: \(printed): \(a) vs \(b)"
    }
}

func outcome(of query: LogQuery) -> Result<LogTable, LogQueryError> {
    do {
        return .success(try query.run(on: Sample.tables, now: Sample.now))
    } catch {
        return .failure(error)
    }
}

/// Two small tables with every column type, nulls, NaN and extreme values, and a column
/// (Level) whose type differs between them, so `search *` makes typed columns.
/// (Static members: a global with an initialiser would be top-level code, which `@main` forbids.
/// The tables are made anew for each input: held in a static, their dynamic values' boxes are
/// reachable only through Swift's tagged pointers, which LeakSanitizer reports as leaks.)
enum Sample {
    static let now = Date(timeIntervalSince1970: 1_795_593_600)  // 2026-11-25T08:00:00Z

    static var tables: [String: LogTable] { [
        "AzureDiagnostics": LogTable(name: "AzureDiagnostics", columns: [
            LogColumn("TimeGenerated", .datetime), LogColumn("Type", .string), LogColumn("ResourceType", .string),
            LogColumn("Category", .string), LogColumn("Level", .string), LogColumn("ResultType", .string),
            LogColumn("DurationMs", .long), LogColumn("Ratio", .real), LogColumn("Ok", .bool), LogColumn("Span", .timespan),
            LogColumn("Props", .dynamic), LogColumn("properties_s", .string),
        ], rows: [
            diagnostics(now.addingTimeInterval(-3600), "IOTHUBS", "Connections", "Error", "404104") + [
                .long(95012), .real(0.5), .bool(true), .timespan(90), .dynamic(.object(["deviceId": .string("d1"), "n": .long(3)])),
                .string("{\"deviceId\":\"d1\",\"keepAliveSeconds\":60}"),
            ],
            diagnostics(now.addingTimeInterval(-60), "IOTHUBS", "Connections", "Information", "") + [
                .null, .real(.nan), .bool(false), .timespan(-0.5), .dynamic(.array([.long(1), .string("x"), .null])), .string("not json"),
            ],
            diagnostics(.distantPast, "IOTHUBS", "DirectMethods", nil, "Ünïcödé ß") + [
                .long(.max), .real(.infinity), .null, .null, .null, .string("[1,[2,[3]]]"),
            ],
            diagnostics(.distantFuture, nil, "Connections", "error", "500001") + [
                .long(.min), .real(-1e300), .bool(true), .timespan(1e9), .dynamic(.real(2.5)), .null,
            ],
        ]),
        "AzureMetrics": LogTable(name: "AzureMetrics", columns: [
            LogColumn("TimeGenerated", .datetime), LogColumn("MetricName", .string), LogColumn("Total", .real),
            LogColumn("Count", .long), LogColumn("Level", .long),
        ], rows: [
            [.datetime(now), .string("connectedDeviceCount"), .real(2), .long(1), .long(4)],
            [.null, .string("d2c.telemetry.ingress.success"), .real(-0.0), .long(0), .null],
        ]),
    ] }

    private static func diagnostics(_ time: Date, _ resourceType: String?, _ category: String, _ level: String?, _ code: String) -> [LogValue] {
        [.datetime(time), .string("AzureDiagnostics"), resourceType.map(LogValue.string) ?? .null, .string(category),
         level.map(LogValue.string) ?? .null, .string(code)]
    }
}

#if FUZZING
/// libFuzzer's entry point: one input per call. Trapping is how a bug is reported.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    if let failure = checkInput(UnsafeRawBufferPointer(start: data, count: size)) {
        fatalError("LogQueryFuzz: \(failure)")
    }
    return 0
}

// SwiftPM links every Swift executable with `--defsym main=LogQueryFuzz_main` (so that test
// targets may link executables). That defines `main` and keeps libFuzzer's own `main` out of
// the link, so this module provides `LogQueryFuzz_main` and starts libFuzzer's driver itself,
// through the entry point libFuzzer exports for that purpose. (`@_extern(c)` needs
// `-enable-experimental-feature Extern`, which Fuzz/run passes.)
@_extern(c, "LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("LogQueryFuzz_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzz)
}
#else
import FuzzReplay

/// Replay mode: `LogQueryFuzz FILE_OR_DIR...`.
@main
struct ReplayCommand {
    static func main() {
        FuzzReplay.run(tool: "LogQueryFuzz", purpose: "Replays fuzz inputs through the KQL parser, evaluator and print round-trip check", check: checkInput)
    }
}
#endif
