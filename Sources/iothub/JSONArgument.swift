import ArgumentParser
import Foundation

/// JSON given on the command line (`--desired`, `--tags`, `--payload`). Parsed before any request
/// so that a typo is reported against its option, with the parser's reason, rather than coming
/// back from the hub as a 400.
enum JSONArgument {
    static func parse(_ text: String, option: String) throws -> Any {
        try parse(text, option: option, expectingObject: false)
    }

    static func object(_ text: String, option: String) throws -> [String: Any] {
        let value = try parse(text, option: option, expectingObject: true)
        guard let object = value as? [String: Any] else {
            throw ValidationError("\(option) must be a JSON object such as '{\"interval\": 5}', not \(kind(value)).")
        }
        return object
    }

    private static func parse(_ text: String, option: String, expectingObject: Bool) throws -> Any {
        do {
            return try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        } catch {
            throw ValidationError("\(option) is not valid JSON: \(reason(error)) \(advice(text, expectingObject))")
        }
    }

    /// The parser's own words ("Unexpected character 'a' around line 1, column 2."), which
    /// Foundation keeps in the debug description rather than the localized one.
    private static func reason(_ error: Error) -> String {
        let ns = error as NSError
        let text = (ns.userInfo[NSDebugDescriptionErrorKey] as? String) ?? ns.localizedDescription
        return text.hasSuffix(".") ? text : text + "."
    }

    /// Most bad JSON on a command line is JSON the shell has eaten the quotes of.
    private static func advice(_ text: String, _ expectingObject: Bool) -> String {
        let t = text.trimmingCharacters(in: .whitespaces)
        if expectingObject || t.hasPrefix("{") || t.hasPrefix("[") {
            return "Keys and strings need double quotes; put single quotes around the whole value for the shell, e.g. '{\"mode\": \"eco\"}'."
        }
        return "A string needs double quotes inside single ones for the shell, e.g. '\"\(t)\"'."
    }

    private static func kind(_ value: Any) -> String {
        switch value {
        case is [Any]: "an array"
        case is String: "a string"
        case is NSNull: "null"
        default: Output.json(value)
        }
    }
}
