import Foundation

/// Aligned columns for people; bold headers only on a terminal.
enum Table {
    static let isTerminal = isatty(STDOUT_FILENO) != 0

    static func render(_ headers: [String], _ rows: [[String]]) -> String {
        var widths = headers.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "   ")
        }
        let head = line(headers)
        return ([isTerminal ? "\u{1B}[1m\(head)\u{1B}[0m" : head] + rows.map(line)).joined(separator: "\n")
    }
}

/// Colour for a status word on a terminal: green running, yellow waiting, red failed.
enum StatusColour {
    static func paint(_ word: String) -> String {
        guard Table.isTerminal else { return word }
        let code: String
        switch word.lowercased() {
        case "running", "ready", "ok": code = "32"
        case "backoff", "stopped", "degraded", "warning", "unknown": code = "33"
        case "failed", "dead", "expired", "error", "fatal": code = "31"
        default: return word
        }
        return "\u{1B}[\(code)m\(word)\u{1B}[0m"
    }
}
