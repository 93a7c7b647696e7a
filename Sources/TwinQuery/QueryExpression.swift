import Twin

/// An expression of a WHERE clause. AND and OR hold all their operands in one list, so a long
/// chain of conditions is flat rather than deep.
public indirect enum QueryExpression: Equatable, Sendable {
    case literal(JSONValue)
    case field(FieldPath)
    case not(QueryExpression)
    case and([QueryExpression])
    case or([QueryExpression])
    case comparison(QueryExpression, ComparisonOperator, QueryExpression)
    /// `x IN [..]`, or `x NIN [..]` (also written `x NOT IN [..]`) when negated.
    case membership(QueryExpression, [JSONValue], negated: Bool)
    case call(QueryFunction, [QueryExpression])
}

public enum ComparisonOperator: String, Equatable, Sendable, CaseIterable {
    case equal = "="
    /// Also written `<>`.
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
}
