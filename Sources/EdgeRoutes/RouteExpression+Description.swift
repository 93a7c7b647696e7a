extension RouteExpression: CustomStringConvertible {
    /// The condition as text that parses back to the same expression. Every compound operand
    /// is parenthesised: simpler than tracking precedence, and unambiguous to read.
    public var description: String { text(top: true) }

    func text(top: Bool) -> String {
        let inner: String
        switch self {
        case .literal(let value): return Self.text(value)
        case .property(let name): return name
        case .systemProperty(let name, let escaped): return escaped ? "{$\(name)}" : "$" + name
        case .body(let path, let escaped): return escaped ? "{$body.\(path)}" : "$body.\(path)"
        case .call(let function, let arguments):
            return function.rawValue + "(" + arguments.map { $0.text(top: true) }.joined(separator: ", ") + ")"
        case .not(let operand): inner = "NOT " + operand.text(top: false)
        case .negate(let operand): inner = "-" + operand.text(top: false)
        case .and(let operands): inner = operands.map { $0.text(top: false) }.joined(separator: " AND ")
        case .or(let operands): inner = operands.map { $0.text(top: false) }.joined(separator: " OR ")
        case .binary(let op, let left, let right): inner = left.text(top: false) + " \(op.rawValue) " + right.text(top: false)
        }
        return top ? inner : "(" + inner + ")"
    }

    /// A literal: strings in single quotes with `\'` and `\\` escaped; whole numbers without a
    /// fraction; others as Swift prints a double (shortest form that reads back the same).
    static func text(_ value: RouteValue) -> String {
        switch value {
        case .undefined: return "undefined"
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let x):
            if x == x.rounded(), Swift.abs(x) < 1e15 { return x == 0 && x.sign == .minus ? "-0" : String(Int64(x)) }
            return "\(x)"
        case .string(let s):
            var text = "'"
            for scalar in s.unicodeScalars {
                if scalar == "'" || scalar == "\\" { text += "\\" }
                text.unicodeScalars.append(scalar)
            }
            return text + "'"
        }
    }
}
