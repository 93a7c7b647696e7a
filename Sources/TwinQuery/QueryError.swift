/// Why a query was refused, and where: `position` is the 0-based offset, in Unicode scalars, of
/// the first character of the offending token. The REST layer answers HTTP 400 with `description`.
public struct QueryError: Error, Equatable, Sendable, CustomStringConvertible {
    public var position: Int
    public var reason: Reason

    public init(position: Int, reason: Reason) {
        self.position = position
        self.reason = reason
    }

    public enum Reason: Equatable, Sendable {
        /// What the grammar allowed at this point, and what the query had instead.
        case expected(String, found: String)
        case unexpectedCharacter(String)
        case unterminatedString
        case invalidEscape(String)
        case invalidNumber(String)
        case unknownFunction(String)
        case wrongArgumentCount(function: String, expected: Int, found: Int)
        case unsupportedSource(String)
        case invalidTop(String)
        /// A field selected next to COUNT() or with GROUP BY that is not one of the grouped fields.
        case notGrouped(String)
        case groupByNeedsFields
        case tooLong(limit: Int)
        case tooDeep(limit: Int)
    }

    /// The reason alone, without the position.
    public var message: String {
        switch reason {
        case .expected(let what, let found): "expected \(what), found \(found)"
        case .unexpectedCharacter(let c): "unexpected character '\(c)'"
        case .unterminatedString: "unterminated string"
        case .invalidEscape(let e): "invalid escape sequence '\(e)' in a string (allowed: \\' \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)"
        case .invalidNumber(let n): "invalid number '\(n)'"
        case .unknownFunction(let name):
            "unknown function '\(name)'; supported: COUNT() in SELECT, and " + QueryFunction.allCases.map { "\($0.rawValue)()" }.joined(separator: ", ")
        case .wrongArgumentCount(let function, let expected, let found):
            "\(function) takes \(expected) argument\(expected == 1 ? "" : "s"), found \(found)"
        case .unsupportedSource(let source): "FROM \(source) is not supported; use FROM devices or FROM devices.modules"
        case .invalidTop(let found): "TOP needs a whole number from 0 to \(Int32.max), found \(found)"
        case .notGrouped(let path): "'\(path)' must be listed in GROUP BY to be selected with COUNT() or GROUP BY"
        case .groupByNeedsFields: "GROUP BY needs a select list of grouped fields and COUNT(), not *"
        case .tooLong(let limit): "query is longer than \(limit) characters"
        case .tooDeep(let limit): "query is nested more than \(limit) levels deep"
        }
    }

    public var description: String { "Syntax error at position \(position): \(message)" }
}
