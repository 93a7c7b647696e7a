import Foundation

/// Output for people (aligned tables) and for programs (`--output json`).
enum Output {
    static func printJSON(_ value: Any) {
        print(json(value, pretty: true))
    }

    /// Sorted JSON text of any value, fragments included (a method's payload may be `42` or `"ok"`).
    static func json(_ value: Any, pretty: Bool = false) -> String {
        let options: JSONSerialization.WritingOptions = pretty
            ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed]
            : [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed]
        let data = (try? JSONSerialization.data(withJSONObject: value, options: options)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// A section title above a block of JSON; bold on a terminal like the table headers.
    static func printHeading(_ title: String) {
        print(isatty(STDOUT_FILENO) != 0 ? "\u{1B}[1m\(title)\u{1B}[0m" : title)
    }

    /// One table cell for a JSON value: text as is, objects and arrays as compact JSON.
    static func cell(_ any: Any?) -> String {
        switch any {
        case let s as String: return s
        case let o as [String: Any]: return json(o)
        case let a as [Any]: return json(a)
        case nil, is NSNull: return "-"
        default: return json(any!)
        }
    }

    static func printLine(_ value: Any) {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        print(String(decoding: data, as: UTF8.self))
        fflush(stdout)
    }

    static func printTable(_ headers: [String], _ rows: [[String]]) {
        var widths = headers.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        let bold = isatty(STDOUT_FILENO) != 0
        let head = line(headers)
        print(bold ? "\u{1B}[1m\(head)\u{1B}[0m" : head)
        for row in rows { print(line(row)) }
    }

    /// Key/value pairs of one object, one per line.
    static func printFields(_ pairs: [(String, String)]) {
        let width = pairs.map(\.0.count).max() ?? 0
        for (k, v) in pairs { print(k.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + v) }
    }

    static func string(_ any: Any?) -> String {
        switch any {
        case nil, is NSNull: return "-"
        case let s as String: return s
        case let n as NSNumber: return n.stringValue
        default: return "\(any!)"
        }
    }
}

extension Dictionary where Key == String, Value == Any {
    func path(_ keys: String...) -> Any? {
        var current: Any? = self
        for k in keys { current = (current as? [String: Any])?[k] }
        return current
    }
}
