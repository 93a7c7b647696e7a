/// Why a route was refused, and where: `position` is the 0-based offset, in Unicode scalars, of
/// the offending token in the route text (the text's length for "found end of route"). For a
/// `.spec` error about a route's priority or TTL it is 0; for malformed JSON given to
/// `RouteSet(json:defaultTTL:)` it is the offset in that JSON text. edgeHub refuses a whole
/// configuration over one bad route, so the error names the route.
public struct RouteError: Error, Equatable, Sendable, CustomStringConvertible {
    public var kind: Kind
    public var position: Int
    /// What was wrong, e.g. "expected INTO, found end of route".
    public var message: String
    /// The route's name in the `routes` object, when known.
    public var routeName: String?

    public init(_ kind: Kind, at position: Int, _ message: String, routeName: String? = nil) {
        self.kind = kind
        self.position = position
        self.message = message
        self.routeName = routeName
    }

    public enum Kind: String, Sendable {
        /// The text is not a route of the language.
        case syntax
        /// A FROM path that is not one of the sources edgeHub knows.
        case source
        /// An INTO target that is not `$upstream` or a module input.
        case sink
        /// An operand or argument of the wrong type, e.g. an application property (a string)
        /// compared with a number. edgeHub refuses these when it compiles the route.
        case type
        /// The route is too long or its condition nested too deep.
        case limit
        /// The route's entry in the `routes` object is malformed: priority, TTL, JSON.
        case spec
    }

    public var description: String {
        let prefix = routeName.map { "route '\($0)': " } ?? ""
        return "\(prefix)\(kind) error at position \(position): \(message)"
    }

    /// The line of `text` holding `position`, a caret under it, and the message:
    ///
    ///     FROM /messages/* WHERE temperature > 30 INTO $upstream
    ///                                        ^
    ///     invalid operands to '>': a string and a number (…)
    ///
    /// Tabs before the position are kept in the caret line, so the caret lines up.
    public func render(route text: String) -> String {
        let scalars = Array(text.unicodeScalars)
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
