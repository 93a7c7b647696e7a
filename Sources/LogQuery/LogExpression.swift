/// A scalar expression. AND and OR hold all their operands in one list, so a long chain of
/// conditions is flat rather than deep. Positions are where errors about the node point.
indirect enum LogExpression: Equatable, Sendable {
    /// A string, long, real or bool literal.
    case literal(LogValue, position: Int)
    /// `datetime(…)` in ticks since 1970 (exact, for printing); nil for `datetime(null)`.
    case datetimeLiteral(ticks: Int64?, position: Int)
    case timespanLiteral(ticks: Int64, position: Int)
    case column(String, position: Int)
    case call(LogFunction, [LogExpression], position: Int)
    /// `*` as the second argument of `arg_max`/`arg_min`: all columns.
    case star(position: Int)
    case and([LogExpression])
    case or([LogExpression])
    case binary(BinaryOperator, LogExpression, LogExpression, position: Int)
    case negate(LogExpression, position: Int)
    case list(ListOperator, LogExpression, [LogExpression], position: Int)
    /// `x between (low .. high)`, or `!between` when negated.
    case between(LogExpression, low: LogExpression, high: LogExpression, negated: Bool, position: Int)
    /// `d.name` or `d["name"]` on a dynamic value.
    case member(LogExpression, String, position: Int)
    /// `d[i]` on a dynamic array (or `d[s]` with a computed key).
    case index(LogExpression, LogExpression, position: Int)
    /// In a `search` predicate, a bare string: a term to find in any column (has, or
    /// hasprefix/hassuffix/contains with `*` wildcards), or in one column as `col:"term"`.
    case searchTerm(String, column: Name?, position: Int)

    /// Where the node's own token is (its operator, for binary nodes).
    var position: Int {
        switch self {
        case .literal(_, let p), .datetimeLiteral(_, let p), .timespanLiteral(_, let p), .column(_, let p), .call(_, _, let p),
             .star(let p), .binary(_, _, _, let p), .negate(_, let p), .list(_, _, _, let p), .between(_, _, _, _, let p),
             .member(_, _, let p), .index(_, _, let p), .searchTerm(_, _, let p):
            p
        case .and(let operands), .or(let operands):
            operands.first?.position ?? 0
        }
    }

    /// Where the expression's text starts.
    var start: Int {
        switch self {
        case .binary(_, let left, _, _), .list(_, let left, _, _), .between(let left, _, _, _, _), .member(let left, _, _),
             .index(let left, _, _):
            left.start
        case .and(let operands), .or(let operands):
            operands.first?.start ?? 0
        default:
            position
        }
    }
}

/// Binary operators: arithmetic, comparisons and Kusto's string operators, written as in queries.
enum BinaryOperator: String, Equatable, Sendable, CaseIterable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "%"
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case equalIgnoringCase = "=~", notEqualIgnoringCase = "!~"
    case has, notHas = "!has", hasCS = "has_cs", notHasCS = "!has_cs"
    case contains, notContains = "!contains", containsCS = "contains_cs", notContainsCS = "!contains_cs"
    case startsWith = "startswith", notStartsWith = "!startswith", startsWithCS = "startswith_cs", notStartsWithCS = "!startswith_cs"
    case endsWith = "endswith", notEndsWith = "!endswith", endsWithCS = "endswith_cs", notEndsWithCS = "!endswith_cs"
    case hasPrefix = "hasprefix", notHasPrefix = "!hasprefix", hasSuffix = "hassuffix", notHasSuffix = "!hassuffix"

    enum Kind { case arithmetic, equality, ordering, string }

    var kind: Kind {
        switch self {
        case .add, .subtract, .multiply, .divide, .modulo: .arithmetic
        case .equal, .notEqual: .equality
        case .less, .lessOrEqual, .greater, .greaterOrEqual: .ordering
        default: .string
        }
    }

    /// The operators spelled as words (`has`, `!contains`, …), by lower-case spelling.
    static let words: [String: BinaryOperator] = Dictionary(
        uniqueKeysWithValues: allCases.filter { $0.rawValue.last!.isLetter }.map { ($0.rawValue, $0) })

    /// For a string operator: how it matches, whether case matters and whether it is negated.
    var stringMatch: (match: StringMatch, caseSensitive: Bool, negated: Bool) {
        if self == .equalIgnoringCase { return (.equal, false, false) }
        if self == .notEqualIgnoringCase { return (.equal, false, true) }
        var name = Substring(rawValue)
        let negated = name.hasPrefix("!")
        if negated { name = name.dropFirst() }
        let caseSensitive = name.hasSuffix("_cs")
        if caseSensitive { name = name.dropLast(3) }
        return (StringMatch(rawValue: String(name)) ?? .equal, caseSensitive, negated)
    }
}

/// `x in (…)` and its variants: `!in`, case-insensitive `in~`/`!in~`, and `has_any`.
enum ListOperator: String, Equatable, Sendable, CaseIterable {
    case `in`, notIn = "!in", inIgnoringCase = "in~", notInIgnoringCase = "!in~", hasAny = "has_any"
}
