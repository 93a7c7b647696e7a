/// Why a query was refused or could not run, and where: `position` is the 0-based offset, in
/// Unicode scalars, of the offending token (the query's length for "found end of query"). The
/// REST layer answers 400 with `render(query:)`; the CLI prints it.
public struct LogQueryError: Error, Equatable, Sendable, CustomStringConvertible {
    public var kind: Kind
    public var position: Int
    /// What was wrong, e.g. "expected a tabular operator (…), found 'whre'".
    public var message: String

    public init(_ kind: Kind, at position: Int, _ message: String) {
        self.kind = kind
        self.position = position
        self.message = message
    }

    public enum Kind: String, Sendable {
        /// The text is not a query of the supported language.
        case syntax
        case unknownTable
        case unknownColumn
        /// An operand or argument of the wrong type, or a function used where it cannot be.
        case type
        /// The query or a value it makes is too long, or nested too deep.
        case limit
    }

    public var description: String { "\(kind) error at position \(position): \(message)" }

    /// The query line holding `position`, a caret under it, and the message:
    ///
    ///     search * | whre Level == "Error"
    ///                ^
    ///     expected a tabular operator (…), found 'whre'
    ///
    /// Tabs before the position are kept in the caret line, so the caret lines up.
    public func render(query: String) -> String {
        let scalars = Array(query.unicodeScalars)
        let at = min(max(position, 0), scalars.count)
        var lineStart = at
        while lineStart > 0, !Self.isNewline(scalars[lineStart - 1]) { lineStart -= 1 }
        var lineEnd = at
        while lineEnd < scalars.count, !Self.isNewline(scalars[lineEnd]) { lineEnd += 1 }
        var line = String.UnicodeScalarView()
        line.append(contentsOf: scalars[lineStart..<lineEnd])
        let indent = scalars[lineStart..<at].map { $0 == "\t" ? "\t" : " " }.joined()
        return String(line) + "\n" + indent + "^\n" + message
    }

    private static func isNewline(_ s: Unicode.Scalar) -> Bool { s == "\n" || s == "\r" }
}
