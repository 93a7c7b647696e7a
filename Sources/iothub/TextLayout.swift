import Foundation

/// Fitting text to a width: table cells cut with "…" and prose wrapped at spaces.
enum TextLayout {
    /// `text` cut to `width` characters, the last one "…" when anything was cut.
    static func truncate(_ text: String, to width: Int) -> String {
        guard text.count > width else { return text }
        return width <= 1 ? String(text.prefix(width)) : String(text.prefix(width - 1)) + "…"
    }

    /// The rows with cells cut so that the table fits `width`, and whether it does. Only the
    /// `shrinkable` columns (all when nil) are cut: times, numbers and codes stay whole. When
    /// the table can fit, the widest shrinkable column gives way first, a character at a time,
    /// none below its header or `floor`. When it cannot (twenty columns of AzureDiagnostics on
    /// 120), it will wrap whatever is cut, so cells are only held to `cap`: one long value (a
    /// resource id, a JSON string) then does not make every row several lines long.
    static func fit(_ headers: [String], _ rows: [[String]], width: Int, shrinkable: Set<Int>? = nil,
                    floor: Int = 16, cap: Int = 40) -> (rows: [[String]], fits: Bool) {
        var widths = headers.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        let cuttable = (shrinkable ?? Set(headers.indices)).filter { $0 < widths.count }
        let minimum = widths.indices.map { cuttable.contains($0) ? min(widths[$0], max(headers[$0].count, floor)) : widths[$0] }
        let gaps = 2 * max(widths.count - 1, 0)
        let fits = minimum.reduce(0, +) + gaps <= width
        if fits {
            var total = widths.reduce(0, +) + gaps
            while total > width, let widest = cuttable.filter({ widths[$0] > minimum[$0] }).max(by: { widths[$0] < widths[$1] }) {
                widths[widest] -= 1
                total -= 1
            }
        } else {
            for i in cuttable { widths[i] = max(min(widths[i], cap), minimum[i]) }
        }
        let cut = rows.map { row in row.enumerated().map { i, cell in i < widths.count ? truncate(cell, to: widths[i]) : cell } }
        return (cut, fits)
    }

    /// `text` as lines of at most `width` characters broken at spaces (a longer word is cut),
    /// the first line starting with `first` and the others with `rest` (usually spaces as long).
    static func wrap(_ text: String, width: Int, first: String, rest: String) -> [String] {
        var lines: [String] = []
        var line = first, lineIsEmpty = true
        for word in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == " " || $0.isNewline }) {
            var word = Substring(word)
            while !word.isEmpty {
                let room = width - line.count - (lineIsEmpty ? 0 : 1)
                if word.count <= room {
                    line += (lineIsEmpty ? "" : " ") + word
                    lineIsEmpty = false
                    word = ""
                } else if lineIsEmpty {
                    // Alone on a line and still too long: cut it (at least one character, so that
                    // an indent wider than the page cannot loop for ever).
                    let take = max(room, 1)
                    line += word.prefix(take)
                    word = word.dropFirst(take)
                    lines.append(line)
                    line = rest
                } else {
                    lines.append(line)
                    line = rest
                    lineIsEmpty = true
                }
            }
        }
        if !lineIsEmpty || lines.isEmpty { lines.append(line) }
        return lines
    }

    /// A table cell keeps to one line: newlines and tabs inside a value are shown escaped.
    static func oneLine(_ text: String) -> String {
        guard text.contains(where: { $0.isNewline || $0 == "\t" }) else { return text }
        return text.replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\n", with: "\\n")
            .replacingOccurrences(of: "\t", with: "\\t")
    }
}
