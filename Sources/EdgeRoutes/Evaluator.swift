/// One message being routed; the body is parsed once, on the first `$body` query.
final class EvaluationContext {
    let message: RoutableMessage
    private var parsedBody: JSONNode??

    init(_ message: RoutableMessage) { self.message = message }

    var body: JSONNode? {
        if let parsedBody { return parsedBody }
        let body = MessageBody.json(of: message)
        parsedBody = .some(body)
        return body
    }
}

extension RouteExpression {
    /// The condition's value for one message. AND, OR and NOT use three-valued logic: undefined
    /// (a missing property, a mismatch) stays undefined through NOT, so `NOT (temp = 'x')` does
    /// not match a message without `temp`.
    func evaluate(in context: EvaluationContext) -> RouteValue {
        switch self {
        case .literal(let value):
            return value
        case .property(let name):
            return context.message.property(name).map(RouteValue.string) ?? .undefined
        case .systemProperty(let name, let escaped):
            if !escaped, let value = context.message.property("$" + name) { return .string(value) }
            return context.message.systemProperty(name).map(RouteValue.string) ?? .undefined
        case .body(let path, let escaped):
            if !escaped, let value = context.message.property("$body." + path.description) { return .string(value) }
            guard let root = context.body else { return .undefined }
            return MessageBody.value(at: path, in: root)
        case .not(let operand):
            if case .bool(let b) = operand.evaluate(in: context) { return .bool(!b) }
            return .undefined
        case .negate(let operand):
            if case .number(let x) = operand.evaluate(in: context) { return .number(-x) }
            return .undefined
        case .and(let operands):
            return Self.combine(operands, in: context, deciding: false)
        case .or(let operands):
            return Self.combine(operands, in: context, deciding: true)
        case .binary(.coalesce, let left, let right):
            let value = left.evaluate(in: context)
            return value.isDefined ? value : right.evaluate(in: context)
        case .binary(let op, let left, let right):
            return op.apply(left.evaluate(in: context), right.evaluate(in: context))
        case .call(let function, let arguments):
            return function.apply(arguments.map { $0.evaluate(in: context) })
        }
    }

    /// AND (`deciding` false) or OR (true): the deciding value wins at once; all the other
    /// boolean gives that; anything else among them gives undefined.
    private static func combine(_ operands: [RouteExpression], in context: EvaluationContext, deciding: Bool) -> RouteValue {
        var result = RouteValue.bool(!deciding)
        for operand in operands {
            switch operand.evaluate(in: context) {
            case .bool(deciding): return .bool(deciding)
            case .bool: continue
            default: result = .undefined
            }
        }
        return result
    }
}

extension BinaryOperator {
    /// Values of one type compare: numbers as doubles, strings ordinally by UTF-16 unit (as
    /// .NET), booleans for (in)equality. `= null` is true only for null and false for any other
    /// defined value. Anything else (undefined, a type mismatch) is undefined.
    func apply(_ left: RouteValue, _ right: RouteValue) -> RouteValue {
        switch (self, left, right) {
        case (_, .undefined, _), (_, _, .undefined):
            return .undefined
        case (.add, .number(let a), .number(let b)): return .number(a + b)
        case (.subtract, .number(let a), .number(let b)): return .number(a - b)
        case (.multiply, .number(let a), .number(let b)): return .number(a * b)
        case (.divide, .number(let a), .number(let b)): return .number(a / b)
        case (.modulo, .number(let a), .number(let b)): return .number(a.truncatingRemainder(dividingBy: b))
        case (.concat, .string(let a), .string(let b)): return .string(a + b)
        case (.equal, .null, _), (.equal, _, .null): return .bool(left == right)
        case (.notEqual, .null, _), (.notEqual, _, .null): return .bool(left != right)
        case (_, .number(let a), .number(let b)):
            return order(a.isNaN || b.isNaN ? nil : a < b ? -1 : a == b ? 0 : 1)
        case (_, .string(let a), .string(let b)):
            return order(a.utf16.elementsEqual(b.utf16) ? 0 : a.utf16.lexicographicallyPrecedes(b.utf16) ? -1 : 1)
        case (.equal, .bool(let a), .bool(let b)): return .bool(a == b)
        case (.notEqual, .bool(let a), .bool(let b)): return .bool(a != b)
        default:
            return .undefined
        }
    }

    /// A comparison from the operands' order (-1, 0, 1), nil when unordered (NaN): then only
    /// `!=` holds.
    private func order(_ ordering: Int?) -> RouteValue {
        guard let ordering else { return .bool(self == .notEqual) }
        switch self {
        case .equal: return .bool(ordering == 0)
        case .notEqual: return .bool(ordering != 0)
        case .less: return .bool(ordering < 0)
        case .lessOrEqual: return .bool(ordering <= 0)
        case .greater: return .bool(ordering > 0)
        case .greaterOrEqual: return .bool(ordering >= 0)
        default: return .undefined
        }
    }
}
