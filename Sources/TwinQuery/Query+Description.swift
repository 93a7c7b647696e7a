import Twin

// Queries print back as text that parses to an equal query (the fuzzer checks this): keywords
// in capitals, strings in single quotes, parentheses only where the structure needs them.

extension Query: CustomStringConvertible {
    public var description: String {
        var text = "SELECT "
        if let top { text += "TOP \(top) " }
        switch selection {
        case .all: text += "*"
        case .items(let items): text += items.map(\.description).joined(separator: ", ")
        }
        text += " FROM \(source.rawValue)"
        if let condition { text += " WHERE \(condition)" }
        if !groupBy.isEmpty { text += " GROUP BY " + groupBy.map(\.description).joined(separator: ", ") }
        return text
    }
}

extension Query.SelectItem: CustomStringConvertible {
    public var description: String {
        switch self {
        case .field(let path, let alias): path.description + (alias.map { " AS \($0)" } ?? "")
        case .count(let alias): "COUNT()" + (alias.map { " AS \($0)" } ?? "")
        }
    }
}

extension FieldPath: CustomStringConvertible {
    /// The first segment as written (the parser only makes paths that start with a name);
    /// later ones as `.name`, or `['…']` when they are not a plain name.
    public var description: String {
        var text = segments.first ?? ""
        for segment in segments.dropFirst() {
            let scalars = segment.unicodeScalars
            if let first = scalars.first, Lexer.isIdentifierStart(first), scalars.allSatisfy(Lexer.isIdentifierPart) {
                text += "." + segment
            } else {
                text += "[" + QueryExpression.literalText(.string(segment)) + "]"
            }
        }
        return text
    }
}

extension QueryExpression: CustomStringConvertible {
    public var description: String {
        switch self {
        case .literal(let value):
            return Self.literalText(value)
        case .field(let path):
            return path.description
        case .not(let operand):
            return "NOT " + operand.parenthesised(if: operand.isJunction)
        case .and(let operands):
            return operands.map { $0.parenthesised(if: $0.isJunction) }.joined(separator: " AND ")
        case .or(let operands):
            return operands.map { $0.parenthesised(if: $0.isOr) }.joined(separator: " OR ")
        case .comparison(let left, let op, let right):
            return "\(left.operandText) \(op.rawValue) \(right.operandText)"
        case .membership(let left, let values, let negated):
            return "\(left.operandText) \(negated ? "NIN" : "IN") [\(values.map(Self.literalText).joined(separator: ", "))]"
        case .call(let function, let arguments):
            return "\(function.rawValue)(\(arguments.map(\.description).joined(separator: ", ")))"
        }
    }

    private var isJunction: Bool {
        switch self {
        case .and, .or: true
        default: false
        }
    }

    private var isOr: Bool {
        if case .or = self { return true }
        return false
    }

    /// Beside a comparison operator only literals, fields and calls stand bare.
    private var operandText: String {
        switch self {
        case .literal, .field, .call: description
        default: "(\(description))"
        }
    }

    private func parenthesised(if needed: Bool) -> String { needed ? "(\(description))" : description }

    static func literalText(_ value: JSONValue) -> String {
        guard case .string(let s) = value else { return value.jsonText }
        var text = "'"
        for scalar in s.unicodeScalars {
            switch scalar {
            case "'": text += "\\'"
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        return text + "'"
    }
}
