// Fuzz target for edgeHub's route language: parser, type checker, evaluator, printer, and the
// twin's `routes` JSON.
//
// Built by `Fuzz/run routes` with `-sanitize=fuzzer,address -D FUZZING -parse-as-library`, this
// file is a libFuzzer target: libFuzzer's driver calls `LLVMFuzzerTestOneInput` with each input.
// Built normally (`swift build`), it is a replay tool that runs the same check over files, so
// that the committed corpus is a regression test of every ordinary build:
//
//     .build/debug/RouteFuzz Fuzz/corpus/routes [MORE_FILES_OR_DIRS…]
//
// The check: an input starting with `{` is a `routes` object for RouteSet(json:); a bad one must
// be refused with a RouteError, a good one must route sample messages to distinct sinks by the
// best matching priority. Any other input is one route (invalid UTF-8 repaired): a RouteError
// must point inside the text; a route that parses is printed, and the printed route must parse
// to the same route, print the same and match the same sample messages, one of which carries
// the input itself as a JSON body. A crash, a trap, a hang or a mismatch is a bug.
//
// The file is not called main.swift: the fuzzing build needs -parse-as-library, and then a
// main.swift may hold no top-level code even inside an inactive #if branch. The replay tool
// uses `@main` instead.
import EdgeRoutes

/// Runs the check over one input. Returns nil when the package behaved, otherwise what went wrong.
func checkInput(_ bytes: UnsafeRawBufferPointer) -> String? {
    let text = String(decoding: bytes, as: UTF8.self)
    let messages = Sample.messages(body: Array(bytes))
    if text.hasPrefix("{") { return checkRouteSet(text, messages) }
    return checkRoute(text, messages)
}

func checkRoute(_ text: String, _ messages: [RoutableMessage]) -> String? {
    let length = text.unicodeScalars.count
    let route: Route
    do {
        route = try Route(parsing: text, name: "fuzz")
    } catch {
        _ = error.render(route: text)
        return (0...length).contains(error.position) ? nil : "error position \(error.position) outside the \(length) characters: \(error)"
    }
    // Printing may lengthen a route (escapes, parentheses), so the reparse has no length limit.
    let printed = route.description
    let again: Route
    do {
        again = try Route(parsing: printed, name: "fuzz", maxLength: .max)
    } catch {
        return "the printed route does not parse: \(printed): \(error)"
    }
    if again.description != printed { return "the printed route prints differently: \(printed) → \(again.description)" }
    if again.source != route.source || again.condition != route.condition || again.sink != route.sink {
        return "the printed route is another route: \(printed)"
    }
    for (i, message) in messages.enumerated() where route.matches(message) != again.matches(message) {
        return "the printed route matches sample message \(i) differently: \(printed)"
    }
    return nil
}

/// A set routes each message once per sink, by a matching route of the best priority.
func checkRouteSet(_ json: String, _ messages: [RoutableMessage]) -> String? {
    let set: RouteSet
    do {
        set = try RouteSet(json: json, defaultTTL: 7200)
    } catch {
        return error.position >= 0 ? nil : "negative error position: \(error)"
    }
    for (i, message) in messages.enumerated() {
        let deliveries = set.match(message)
        if Set(deliveries.map(\.sink)).count != deliveries.count { return "message \(i) delivered twice to one sink: \(deliveries)" }
        for delivery in deliveries {
            let matching = set.entries.filter { $0.route.sink == delivery.sink && $0.route.matches(message) }
            guard let chosen = matching.first(where: { $0.route.name == delivery.routeName }) else {
                return "message \(i) delivered by route '\(delivery.routeName)', which does not match it"
            }
            if matching.contains(where: { $0.priority < chosen.priority }) || delivery.priority != chosen.priority || delivery.ttl != chosen.ttl {
                return "message \(i) delivered to \(delivery.sink) by \(delivery), not by the best matching route"
            }
        }
        let matched = Set(set.entries.filter { $0.route.matches(message) }.map(\.route.sink))
        if matched != Set(deliveries.map(\.sink)) { return "message \(i) missed a sink: \(deliveries)" }
    }
    return nil
}

/// Messages of every source, with properties and bodies the seed routes test. (Made anew for
/// each input, as the other fuzz targets do: statics with initialisers would be top-level state.)
enum Sample {
    static func messages(body input: [UInt8]) -> [RoutableMessage] {
        func json(_ source: RoutableMessage.Source, _ body: [UInt8], _ properties: [String: String] = [:]) -> RoutableMessage {
            RoutableMessage(source: source, properties: properties,
                            systemProperties: ["contentType": "application/json", "contentEncoding": "utf-8", "messageId": "m1"], body: body)
        }
        let weather = Array(#"{"Weather":{"Temperature":50,"HistoricalData":[{"Month":"Feb"}],"Location":{"State":"WA"}},"flag":true,"n":null,"s":"Ünï 😀"}"#.utf8)
        return [
            json(.device("thermostat"), weather, ["processingPath": "hot", "temperatureAlert": "true", "temp": "31"]),
            json(.module(deviceId: "edge1", moduleId: "filter", output: "output1"), Array(#"{"a":[1,2.5e3,-0],"b":{"c":"x"}}"#.utf8), ["$contentType": "shadow"]),
            RoutableMessage(source: .module(deviceId: "edge1", moduleId: "SecCamMod", output: nil), properties: ["alert-level": "high"], body: input),
            json(.twinChangeNotification(deviceId: "edge1", moduleId: nil), Array(#"{"properties":{"reported":{"x":1}}}"#.utf8)),
            json(.module(deviceId: "edge1", moduleId: "tempSensor", output: "temperatureOutput"), input),
            RoutableMessage(source: .device("leaf"), systemProperties: ["contentType": "application/json", "contentEncoding": "utf-16"], body: input),
        ]
    }
}

#if FUZZING
/// libFuzzer's entry point: one input per call. Trapping is how a bug is reported.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    if let failure = checkInput(UnsafeRawBufferPointer(start: data, count: size)) {
        fatalError("RouteFuzz: \(failure)")
    }
    return 0
}

// SwiftPM links every Swift executable with `--defsym main=RouteFuzz_main` (so that test
// targets may link executables). That defines `main` and keeps libFuzzer's own `main` out of
// the link, so this module provides `RouteFuzz_main` and starts libFuzzer's driver itself,
// through the entry point libFuzzer exports for that purpose. (`@_extern(c)` needs
// `-enable-experimental-feature Extern`, which Fuzz/run passes.)
@_extern(c, "LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("RouteFuzz_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzz)
}
#else
import FuzzReplay

/// Replay mode: `RouteFuzz FILE_OR_DIR...`.
@main
struct ReplayCommand {
    static func main() {
        FuzzReplay.run(tool: "RouteFuzz", purpose: "Replays fuzz inputs through the route parser, evaluator, print round-trip and route-set checks", check: checkInput)
    }
}
#endif
