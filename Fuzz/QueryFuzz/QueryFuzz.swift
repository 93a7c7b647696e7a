// Fuzz target for the IoT Hub query parser and evaluator.
//
// Built by `Fuzz/run query` with `-sanitize=fuzzer,address -D FUZZING -parse-as-library`, this
// file is a libFuzzer target: libFuzzer's driver calls `LLVMFuzzerTestOneInput` with each input.
// Built normally (`swift build`), it is a replay tool that runs the same check over files, so
// that the committed corpus is a regression test of every ordinary build:
//
//     .build/debug/QueryFuzz Fuzz/corpus/query [MORE_FILES_OR_DIRS…]
//
// The check: parse the input as query text (invalid UTF-8 is repaired, as a JSON body would
// be). A QueryError is the parser's right answer to a bad query, and must point inside the
// text. A query that parses is evaluated over a few twins, and printed: the printed text must
// parse again to an equal query. A crash, a trap, a hang or a mismatch is a bug.
//
// The file is not called main.swift: the fuzzing build needs -parse-as-library, and then a
// main.swift may hold no top-level code even inside an inactive #if branch. The replay tool
// uses `@main` instead.
import Twin
import TwinQuery

/// Runs the check over one input. Returns nil when the parser behaved, otherwise what went wrong.
func checkInput(_ bytes: UnsafeRawBufferPointer) -> String? {
    let text = String(decoding: bytes, as: UTF8.self)
    let query: Query
    do {
        query = try Query(parsing: text)
    } catch {
        let length = text.unicodeScalars.count
        if error.position < 0 || error.position > length { return "error position \(error.position) outside the \(length) characters: \(error)" }
        return nil
    }
    let rows = query.evaluate(Sample.twins)
    if let top = query.top, rows.count > top { return "TOP \(top) returned \(rows.count) rows" }
    if query.itemType == .twin, rows.contains(where: { !Sample.twins.contains($0) }) { return "SELECT * returned something that is not a twin" }
    return checkRoundTrip(query)
}

/// parse(description(q)) == q. Printing may lengthen a query (escapes, exponents), so the
/// reparse has no length limit.
func checkRoundTrip(_ query: Query) -> String? {
    let printed = query.description
    do {
        let again = try Query(parsing: printed, maxLength: .max)
        if again != query { return "reparsing the printed query gives another query: \(printed)" }
    } catch {
        return "the printed query does not parse: \(printed): \(error)"
    }
    return nil
}

/// Device and module twins with tags, desired and reported properties of every JSON type.
/// (A static property: a global with an initialiser would be top-level code, which `@main` forbids.)
enum Sample {
    static let twins: [JSONValue] = [
        [
            "deviceId": "thermostat1", "etag": "AAAAAAAAAAE=", "status": "enabled", "connectionState": "Connected",
            "lastActivityTime": "2024-05-01T10:00:00Z", "version": 4,
            "tags": ["location": ["region": "US", "plant": "Redmond43"], "floor": 3, "labels": ["a", "b"]],
            "properties": [
                "desired": ["telemetryConfig": ["sendFrequencyInSecs": 300], "$version": 2, "$metadata": ["$lastUpdated": "2024-05-01T10:00:00Z"]],
                "reported": ["temp": 21.5, "connectivity": "wifi", "enabled": true, "nothing": nil, "$version": 5],
            ],
            "capabilities": ["iotEdge": false],
        ],
        [
            "deviceId": "sensor2", "status": "disabled", "connectionState": "Disconnected", "version": 2,
            "tags": ["location": ["region": "EU"], "floor": "3"],
            "properties": ["desired": ["$version": 1], "reported": ["temp": 19, "connectivity": "wired", "$version": 1]],
            "capabilities": ["iotEdge": true],
        ],
        [
            "deviceId": "thermostat1", "moduleId": "SimulatedTemperatureSensor", "status": "enabled", "connectionState": "Connected",
            "version": 3, "tags": ["location": ["region": "US"]],
            "properties": ["desired": ["$version": 1], "reported": ["status": "scanning", "$version": 3]],
        ],
    ]
}

#if FUZZING
/// libFuzzer's entry point: one input per call. Trapping is how a bug is reported.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    if let failure = checkInput(UnsafeRawBufferPointer(start: data, count: size)) {
        fatalError("QueryFuzz: \(failure)")
    }
    return 0
}

// SwiftPM links every Swift executable with `--defsym main=QueryFuzz_main` (so that test targets
// may link executables). That defines `main` and keeps libFuzzer's own `main` out of the link,
// so this module provides `QueryFuzz_main` and starts libFuzzer's driver itself, through the
// entry point libFuzzer exports for that purpose. (`@_extern(c)` needs
// `-enable-experimental-feature Extern`, which Fuzz/run passes.)
@_extern(c, "LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("QueryFuzz_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzz)
}
#else
import FuzzReplay

/// Replay mode: `QueryFuzz FILE_OR_DIR...`.
@main
struct ReplayCommand {
    static func main() {
        FuzzReplay.run(tool: "QueryFuzz", purpose: "Replays fuzz inputs through the query parser, evaluator and print round-trip check", check: checkInput)
    }
}
#endif
