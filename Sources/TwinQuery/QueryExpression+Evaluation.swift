import Twin

// Semantics follow DocumentDB, on which IoT Hub's query language is modelled: a missing
// property is *undefined* (nil here), not null. Comparisons with undefined, between objects or
// arrays, or ordering values of different types give undefined; `=` between primitives of
// different types is false. NOT, AND and OR are three-valued (NOT undefined is undefined), so
// `NOT (tags.x = 1)` does not select a twin without `tags.x`. Only `true` selects a twin.

extension QueryExpression {
    /// The value of the expression for one twin; nil is undefined.
    public func value(in document: JSONValue, source: Query.Source) -> JSONValue? {
        switch self {
        case .literal(let value):
            return value
        case .field(let path):
            return path.lookup(in: document, source: source)?.value
        case .not(let operand):
            guard case .bool(let b)? = operand.value(in: document, source: source) else { return nil }
            return .bool(!b)
        case .and(let operands):
            return junction(operands, document, source, deciding: false)
        case .or(let operands):
            return junction(operands, document, source, deciding: true)
        case .comparison(let left, let op, let right):
            guard let l = left.value(in: document, source: source), let r = right.value(in: document, source: source) else { return nil }
            return Self.compare(l, op, r)
        case .membership(let left, let values, let negated):
            guard let l = left.value(in: document, source: source) else { return nil }
            let found = values.contains { Self.compare(l, .equal, $0) == .bool(true) }
            return .bool(found != negated)
        case .call(let function, let arguments):
            return function.apply(arguments.map { $0.value(in: document, source: source) })
        }
    }

    /// AND (`deciding` false) or OR (`deciding` true): the deciding value as soon as an operand
    /// has it, the other one when all operands do, otherwise undefined.
    private func junction(_ operands: [QueryExpression], _ document: JSONValue, _ source: Query.Source, deciding: Bool) -> JSONValue? {
        var allBoolean = true
        for operand in operands {
            switch operand.value(in: document, source: source) {
            case .bool(deciding)?: return .bool(deciding)
            case .bool?: continue
            default: allBoolean = false
            }
        }
        return allBoolean ? .bool(!deciding) : nil
    }

    static func compare(_ l: JSONValue, _ op: ComparisonOperator, _ r: JSONValue) -> JSONValue? {
        let order: Int
        switch (l, r) {
        case (.number(let a), .number(let b)): order = a < b ? -1 : (a == b ? 0 : 1)
        case (.string(let a), .string(let b)): order = a < b ? -1 : (a == b ? 0 : 1)
        case (.bool(let a), .bool(let b)): order = a == b ? 0 : (a ? 1 : -1)
        case (.null, .null): order = 0
        case (.object, _), (.array, _), (_, .object), (_, .array): return nil
        default: return op == .equal ? false : nil
        }
        switch op {
        case .equal: return .bool(order == 0)
        case .notEqual: return .bool(order != 0)
        case .less: return .bool(order < 0)
        case .lessOrEqual: return .bool(order <= 0)
        case .greater: return .bool(order > 0)
        case .greaterOrEqual: return .bool(order >= 0)
        }
    }
}
