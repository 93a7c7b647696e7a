/// A config.toml the daemon refuses: what is wrong, where (file and line, with the line's
/// text), and what to change. Rendered as
///
///     /etc/outpost/config.toml:3: Error parsing user input data: invalid hostname. Hostname cannot be empty or greater than 64 characters
///         3 | hostname = "…"
///       fix: …
///
/// so that the seed's message (000, "IoT Edge security daemon fails with an invalid hostname")
/// appears as it does there, and an editor can jump to the line.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based; nil when the problem is something missing from the file.
    public var line: Int?
    /// The text of that line, for the quote under the message.
    public var lineText: String?
    public var message: String
    public var fix: String

    public init(file: String, line: Int? = nil, lineText: String? = nil, message: String, fix: String) {
        self.file = file
        self.line = line
        self.lineText = lineText
        self.message = message
        self.fix = fix
    }

    public var description: String {
        var out = line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)"
        if let line, let lineText {
            out += "\n    \(line) | \(lineText)"
        }
        out += "\n  fix: \(fix)"
        return out
    }

    /// The seed's message for a hostname that is empty or longer than 64 characters.
    public static let invalidHostnameMessage =
        "Error parsing user input data: invalid hostname. Hostname cannot be empty or greater than 64 characters"
}
