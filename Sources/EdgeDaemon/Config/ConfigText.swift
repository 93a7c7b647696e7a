/// Edits of config.toml that keep the rest of the file (comments, order) as the person wrote it.
public enum ConfigText {
    /// `text` with `key = "value"` set in `[section]`: the key's line replaced, else added at the
    /// end of the section, else the section added at the end of the file.
    public static func setting(_ text: String, section: String, key: String, value: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        let newLine = "\(TOMLText.key(key)) = \(TOMLText.string(value))"
        func header(_ line: String) -> String? {
            let t = line.trimmingSpaces()
            guard t.hasPrefix("["), let close = t.firstIndex(of: "]") else { return nil }
            return t[t.index(after: t.startIndex)..<close].trimmingSpaces()
        }
        guard let start = lines.firstIndex(where: { header($0) == section }) else {
            return lines.joined(separator: "\n") + "\n\n[\(section)]\n\(newLine)\n"
        }
        var end = lines.count
        for i in (start + 1)..<lines.count where header(lines[i]) != nil { end = i; break }
        for i in (start + 1)..<end {
            let t = lines[i].trimmingSpaces()
            if let eq = t.firstIndex(of: "="), t[..<eq].trimmingSpaces().trimmingCharacters(quotes: true) == key {
                lines[i] = newLine
                return lines.joined(separator: "\n") + "\n"
            }
        }
        var insertAt = end
        while insertAt > start + 1, lines[insertAt - 1].trimmingSpaces().isEmpty { insertAt -= 1 }
        lines.insert(newLine, at: insertAt)
        return lines.joined(separator: "\n") + "\n"
    }
}
