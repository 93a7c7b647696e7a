/// The static type of a condition's expression. edgeHub types a route when it compiles it and
/// refuses one that compares a string with a number; checking the same at parse time turns a
/// route that could never match into an error with a position.
enum ValueType: Equatable {
    case string, number, bool, null, undefined
    /// A `$body` value: JSON, so its type is known only per message.
    case dynamic

    /// As an error message names it: "a string".
    var named: String {
        switch self {
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        case .undefined: "undefined"
        case .dynamic: "a $body value"
        }
    }

    /// Whether `=`, `!=` and `??` may take these two: the same type, or a `$body` value.
    static func comparable(_ a: ValueType, _ b: ValueType) -> Bool { a == b || a == .dynamic || b == .dynamic }

    /// Whether a value of this type may stand where `expected` is required.
    func fits(_ expected: ValueType) -> Bool { self == expected || self == .dynamic }

    /// Operands of AND, OR and NOT: booleans, or what may be undefined at run time.
    var isLogical: Bool { [.bool, .null, .undefined, .dynamic].contains(self) }
}
