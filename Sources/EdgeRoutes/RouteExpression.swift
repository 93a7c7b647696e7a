/// A WHERE condition, already type-checked. AND and OR hold all their operands in one list, so
/// a long chain of conditions is flat rather than deep.
public indirect enum RouteExpression: Equatable, Sendable {
    case literal(RouteValue)
    /// An application property by name: a string, or undefined when the message lacks it.
    case property(String)
    /// `$name`: the application property `$name` if the message has one (edgeHub lets it win),
    /// else the system property `name`. Written `{$name}` (`escaped`), always the system property.
    case systemProperty(String, escaped: Bool)
    /// `$body.a.b[0]`: a scalar of a JSON body. As for `$name`, an application property called
    /// `$body.a.b[0]` wins unless it is written `{$body.a.b[0]}`.
    case body(BodyPath, escaped: Bool)
    case not(RouteExpression)
    /// Unary minus of a non-literal; `-5` is folded into a literal.
    case negate(RouteExpression)
    case and([RouteExpression])
    case or([RouteExpression])
    case binary(BinaryOperator, RouteExpression, RouteExpression)
    case call(RouteFunction, [RouteExpression])
}

public enum BinaryOperator: String, Equatable, Sendable, CaseIterable {
    case equal = "="
    /// Also written `<>`.
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
    case add = "+"
    case subtract = "-"
    case multiply = "*"
    case divide = "/"
    case modulo = "%"
    /// String concatenation.
    case concat = "||"
    /// The left operand if it is defined, else the right.
    case coalesce = "??"
}
