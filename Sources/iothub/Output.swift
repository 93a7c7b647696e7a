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

    /// `rightAligned` columns (numbers) are padded on the left. On a terminal `style` may give a
    /// cell an ANSI SGR code ("31" red), applied after measuring so that columns stay aligned.
    static func printTable(_ headers: [String], _ rows: [[String]], rightAligned: Set<Int> = [],
                           style: (_ column: Int, _ cell: String) -> String? = { _, _ in nil }) {
        for line in tableLines(headers, rows, rightAligned: rightAligned, style: style) { print(line) }
    }

    /// The header line, then one line per row: for a caller that prints more under each row.
    static func tableLines(_ headers: [String], _ rows: [[String]], rightAligned: Set<Int> = [],
                           style: (_ column: Int, _ cell: String) -> String? = { _, _ in nil }) -> [String] {
        var widths = headers.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        let terminal = Terminal.isStdout
        func line(_ cells: [String], header: Bool) -> String {
            cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: i < widths.count ? max(widths[i] - c.count, 0) : 0)
                let sgr = terminal && !header ? style(i, c) : nil
                let text = sgr.map { "\u{1B}[\($0)m\(c)\u{1B}[0m" } ?? c
                if rightAligned.contains(i) { return pad + text }
                return i == cells.count - 1 ? text : text + pad
            }.joined(separator: "  ")
        }
        let head = line(headers, header: true)
        return [terminal ? "\u{1B}[1m\(head)\u{1B}[0m" : head] + rows.map { line($0, header: false) }
    }

    /// Key/value pairs of one object, one per line.
    static func printFields(_ pairs: [(String, String)]) {
        let width = pairs.map(\.0.count).max() ?? 0
        for (k, v) in pairs { print(k.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + v) }
    }

    /// A measured value for people: whole numbers without a fraction, others to at most three
    /// decimals (an average of 1.3333333333 reads as 1.333).
    static func number(_ any: Any?) -> String {
        guard let n = any as? NSNumber else { return string(any) }
        let d = n.doubleValue
        guard d.isFinite else { return string(any) }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        var s = String(format: "%.3f", d)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s == "-0" ? "0" : s
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
