/// Finds the line of a key in TOML text, so that a message about a value can name it. TOMLKit
/// gives positions only for syntax errors; for a well-formed file whose *values* are wrong this
/// scans the text: table headers (`[a.b]`), `key = value` lines, quoted keys, dotted keys, and
/// inline tables one level deep (`device_id_pk = { value = "…" }` is found for
/// `provisioning.authentication.device_id_pk.value`).
public struct TOMLLines: Sendable {
    public let lines: [String]

    public init(_ text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
        }
    }

    /// The 1-based line that sets `path` (dotted, like `agent.config.image`), or where its
    /// nearest enclosing table is declared, or nil.
    public func line(of path: String) -> Int? {
        let want = path.split(separator: ".").map(String.init)
        var table: [String] = []
        var best: (line: Int, depth: Int)?
        var inMultiline: String?
        for (index, raw) in lines.enumerated() {
            let text = raw.trimmingSpaces()
            if let delimiter = inMultiline {
                if text.contains(delimiter) { inMultiline = nil }
                continue
            }
            if text.isEmpty || text.hasPrefix("#") { continue }
            if text.hasPrefix("[") {
                let isArray = text.hasPrefix("[[")
                let inner = text.dropFirst(isArray ? 2 : 1)
                guard let close = inner.firstIndex(of: "]") else { continue }
                table = Self.splitKey(String(inner[..<close]))
                if table == want { return index + 1 }
                if want.starts(with: table), table.count > (best?.depth ?? -1) { best = (index + 1, table.count) }
                continue
            }
            guard let eq = Self.assignmentIndex(text) else { continue }
            let key = table + Self.splitKey(String(text[..<eq]))
            let value = text[text.index(after: eq)...].trimmingSpaces()
            if value.hasPrefix("\"\"\"") && !value.dropFirst(3).contains("\"\"\"") { inMultiline = "\"\"\"" }
            if value.hasPrefix("'''") && !value.dropFirst(3).contains("'''") { inMultiline = "'''" }
            if key == want { return index + 1 }
            if want.starts(with: key) {
                // An inline table: look for the rest of the path inside the braces.
                if value.hasPrefix("{") {
                    let rest = Array(want.dropFirst(key.count))
                    if rest.count == 1, value.contains(rest[0]) { return index + 1 }
                }
                if key.count > (best?.depth ?? -1) { best = (index + 1, key.count) }
            }
        }
        return best?.line
    }

    /// The text of a 1-based line.
    public func text(ofLine line: Int?) -> String? {
        guard let line, line >= 1, line <= lines.count else { return nil }
        return lines[line - 1]
    }

    /// Where the `=` of a `key = value` line is, outside quotes.
    private static func assignmentIndex(_ text: String) -> String.Index? {
        var quote: Character?
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "=" {
                return i
            }
            i = text.index(after: i)
        }
        return nil
    }

    /// `a."b.c".d` is `["a", "b.c", "d"]`.
    static func splitKey(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var quote: Character?
        for c in text {
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "." {
                parts.append(current.trimmingSpaces())
                current = ""
            } else {
                current.append(c)
            }
        }
        parts.append(current.trimmingSpaces())
        return parts
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" || f == "\n" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\n" { s.removeLast() }
        return String(s)
    }
}
