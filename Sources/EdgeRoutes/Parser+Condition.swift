/// A condition expression being parsed, with its static type, the height of its tree (bounded
/// by `Route.maxDepth`, so evaluation and printing recurse boundedly) and where it starts.
struct Typed {
    var expression: RouteExpression
    var type: ValueType
    var height: Int
    var position: Int
}

/// Conditions by precedence, loosest first: `??`, OR, AND, NOT, `= != <>`, `< <= > >=`,
/// `+ - ||`, `* / %`, unary minus. edgeHub's grammar is the same except that its NOT binds
/// tightest; here NOT is looser than comparisons, as in SQL and the IoT Hub query language, so
/// `NOT $body.x = 5` means `NOT ($body.x = 5)`.
extension Parser {
    mutating func parseCondition() throws(RouteError) -> RouteExpression {
        let condition = try parseCoalesce()
        guard condition.type.isLogical else {
            throw RouteError(.type, at: condition.position, "a condition must be true or false, found \(condition.type.named)")
        }
        return condition.expression
    }

    private mutating func parseCoalesce() throws(RouteError) -> Typed {
        var left = try parseLogical(or: true)
        while try peek().isSymbol("??") {
            let op = try advance()
            left = try binary(.coalesce, left, try parseLogical(or: true), op)
        }
        return left
    }

    /// OR over ANDs, or (`or` false) AND over NOTs, flattened into one list.
    private mutating func parseLogical(or: Bool) throws(RouteError) -> Typed {
        let word = or ? "OR" : "AND"
        let first = or ? try parseLogical(or: false) : try parseNot()
        var operands = [first]
        var op = try peek()
        while op.isKeyword(word) {
            index += 1
            let next = or ? try parseLogical(or: false) : try parseNot()
            for operand in [operands[0], next] where !operand.type.isLogical {
                throw RouteError(.type, at: op.position, "\(word) joins conditions, found \(operand.type.named)")
            }
            operands.append(next)
            op = try peek()
        }
        guard operands.count > 1 else { return first }
        let expressions = operands.map(\.expression)
        return try node(or ? .or(expressions) : .and(expressions), .bool, operands, at: first.position, op)
    }

    private mutating func parseNot() throws(RouteError) -> Typed {
        let token = try peek()
        guard token.isKeyword("NOT") else { return try parseBinary(level: 0) }
        index += 1
        try enter(token)
        defer { depth -= 1 }
        let operand = try parseNot()
        guard operand.type.isLogical else {
            throw RouteError(.type, at: token.position, "NOT needs a condition, found \(operand.type.named)")
        }
        return try node(.not(operand.expression), .bool, [operand], at: token.position, token)
    }

    /// The binary operators by level, tightest last.
    private static let levels: [[String: BinaryOperator]] = [
        ["=": .equal, "!=": .notEqual, "<>": .notEqual],
        ["<": .less, "<=": .lessOrEqual, ">": .greater, ">=": .greaterOrEqual],
        ["+": .add, "-": .subtract, "||": .concat],
        ["*": .multiply, "/": .divide, "%": .modulo],
    ]

    private mutating func parseBinary(level: Int) throws(RouteError) -> Typed {
        guard level < Self.levels.count else { return try parseUnary() }
        var left = try parseBinary(level: level + 1)
        while case .symbol(let s) = try peek().kind, let op = Self.levels[level][s] {
            let token = try advance()
            left = try binary(op, left, try parseBinary(level: level + 1), token)
        }
        return left
    }

    private mutating func parseUnary() throws(RouteError) -> Typed {
        let token = try peek()
        guard token.isSymbol("-") else { return try parsePrimary() }
        index += 1
        try enter(token)
        defer { depth -= 1 }
        let operand = try parseUnary()
        guard operand.type.fits(.number) else {
            throw RouteError(.type, at: token.position, "invalid operand to unary '-': \(operand.type.named)")
        }
        if case .literal(.number(let x)) = operand.expression {
            return Typed(expression: .literal(.number(-x)), type: .number, height: operand.height, position: token.position)
        }
        return try node(.negate(operand.expression), .number, [operand], at: token.position, token)
    }

    private mutating func parsePrimary() throws(RouteError) -> Typed {
        let token = try advance()
        func leaf(_ expression: RouteExpression, _ type: ValueType) -> Typed {
            Typed(expression: expression, type: type, height: 1, position: token.position)
        }
        switch token.kind {
        case .string(let s): return leaf(.literal(.string(s)), .string)
        case .number(let x): return leaf(.literal(.number(x)), .number)
        case .dollar(let name): return leaf(try dollar(name, token, escaped: false), Self.type(ofDollar: name))
        case .symbol("{"):
            let inner = try advance()
            guard case .dollar(let name) = inner.kind else { throw expected("a $property after '{'", inner) }
            try expect("}", "'}' closing {\(inner.text)")
            return Typed(expression: try dollar(name, inner, escaped: true), type: Self.type(ofDollar: name), height: 1, position: token.position)
        case .symbol("("):
            try enter(token)
            defer { depth -= 1 }
            var inner = try parseCoalesce()
            try expect(")", "')' or an operator")
            inner.position = token.position
            return inner
        case .name(let name):
            switch name.uppercased() {
            case "TRUE": return leaf(.literal(.bool(true)), .bool)
            case "FALSE": return leaf(.literal(.bool(false)), .bool)
            case "NULL": return leaf(.literal(.null), .null)
            case "UNDEFINED": return leaf(.literal(.undefined), .undefined)
            case "AND", "OR", "NOT", "INTO", "WHERE", "FROM", "SELECT": break
            default:
                if try peek().isSymbol("(") { return try parseCall(token, name) }
                return leaf(.property(name), .string)
            }
        default: break
        }
        throw expected("a value (a property, a $property, a $body path, a literal or a function call)", token)
    }

    /// `$body` paths are JSON; system properties, like application properties, are strings.
    private static func type(ofDollar name: String) -> ValueType {
        bodyPathText(name) == nil ? .string : .dynamic
    }

    /// The path after `$body.` (`body` in any case), or nil for another name. Names are taken
    /// apart by Unicode scalar, not by character, so a combining mark cannot hide a `.` or `[`.
    private static func bodyPathText(_ name: String) -> String.UnicodeScalarView.SubSequence? {
        let scalars = name.unicodeScalars
        let prefix = String(String.UnicodeScalarView(scalars.prefix(5)))
        return prefix.lowercased() == "body." ? scalars.dropFirst(5) : nil
    }

    /// `$name` as a system property, or `$body.path`.
    private func dollar(_ name: String, _ token: Token, escaped: Bool) throws(RouteError) -> RouteExpression {
        if let path = Self.bodyPathText(name), !path.isEmpty { return .body(try bodyPath(path, token), escaped: escaped) }
        if name.lowercased() == "body" || Self.bodyPathText(name) != nil {
            throw RouteError(.syntax, at: token.position, "$body needs a path, e.g. $body.temperature")
        }
        if name.unicodeScalars.contains(where: { $0 == "[" || $0 == "]" }) {
            throw RouteError(.syntax, at: token.position, "only $body paths take an [index], found \(token.quoted)")
        }
        return .systemProperty(name, escaped: escaped)
    }

    /// `a.b[0].c`: names, each followed by any number of `[index]`.
    private func bodyPath(_ text: String.UnicodeScalarView.SubSequence, _ token: Token) throws(RouteError) -> BodyPath {
        var components: [BodyPath.Component] = []
        for segment in text.split(separator: ".", omittingEmptySubsequences: false) {
            let key = segment.prefix { $0 != "[" && $0 != "]" }
            var rest = segment.dropFirst(key.count)
            guard !key.isEmpty else { throw badPath(token, "a property name is missing") }
            components.append(.key(String(String.UnicodeScalarView(key))))
            while !rest.isEmpty {
                guard rest.first == "[", let close = rest.firstIndex(of: "]") else { throw badPath(token, "expected [index]") }
                let digits = rest[rest.index(after: rest.startIndex)..<close]
                guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ ("0"..."9").contains($0) }),
                      let i = Int(String(String.UnicodeScalarView(digits))) else {
                    throw badPath(token, "an index is a whole number, like [0]")
                }
                components.append(.index(i))
                rest = rest[rest.index(after: close)...]
            }
        }
        return BodyPath(components)
    }

    private func badPath(_ token: Token, _ why: String) -> RouteError {
        RouteError(.syntax, at: token.position, "invalid $body path \(token.quoted): \(why)")
    }

    private mutating func parseCall(_ token: Token, _ name: String) throws(RouteError) -> Typed {
        guard let function = RouteFunction(name: name) else {
            let names = RouteFunction.allCases.map(\.rawValue).joined(separator: ", ")
            throw RouteError(.syntax, at: token.position, "unknown function '\(name)'; functions are \(names)")
        }
        index += 1  // the "(" that parsePrimary saw
        try enter(token)
        defer { depth -= 1 }
        var arguments: [Typed] = []
        if try !accept(")") {
            repeat { arguments.append(try parseCoalesce()) } while try accept(",")
            try expect(")", "',' or ')'")
        }
        let (parameters, minimum, maximum) = function.signature
        guard arguments.count >= minimum, arguments.count <= maximum ?? .max else {
            let count = minimum == maximum ? "\(minimum)" : maximum == nil ? "at least \(minimum)" : "\(minimum) or \(maximum!)"
            throw RouteError(.syntax, at: token.position, "\(function.rawValue) takes \(count) argument\((maximum ?? minimum) == 1 ? "" : "s"), found \(arguments.count): \(function.usage)")
        }
        for (i, argument) in arguments.enumerated() {
            if case .type(let type) = parameters[min(i, parameters.count - 1)], !argument.type.fits(type) {
                throw RouteError(.type, at: argument.position,
                                 "argument \(i + 1) of \(function.rawValue) must be \(type.named), found \(argument.type.named): \(function.usage)")
            }
        }
        return try node(.call(function, arguments.map(\.expression)), function.resultType, arguments, at: token.position, token)
    }

    // MARK: types

    /// `left op right`, type-checked as edgeHub does when it compiles a route.
    private func binary(_ op: BinaryOperator, _ left: Typed, _ right: Typed, _ token: Token) throws(RouteError) -> Typed {
        let (l, r) = (left.type, right.type)
        let type: ValueType?
        switch op {
        case .equal, .notEqual: type = ValueType.comparable(l, r) ? .bool : nil
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            let ordered: [ValueType] = [.string, .number, .dynamic]
            type = ValueType.comparable(l, r) && ordered.contains(l) && ordered.contains(r) ? .bool : nil
        case .add, .subtract, .multiply, .divide, .modulo: type = l.fits(.number) && r.fits(.number) ? .number : nil
        case .concat: type = l.fits(.string) && r.fits(.string) ? .string : nil
        case .coalesce: type = ValueType.comparable(l, r) ? (l == r ? l : .dynamic) : nil
        }
        guard let type else {
            throw RouteError(.type, at: token.position, "invalid operands to '\(token.text)': \(l.named) and \(r.named)" + hint(left, right))
        }
        return try node(.binary(op, left.expression, right.expression), type, [left, right], at: left.position, token)
    }

    /// Why a property compared with a number or a boolean never works, and what does.
    private func hint(_ left: Typed, _ right: Typed) -> String {
        for (property, other) in [(left, right), (right, left)] {
            let name: String
            switch property.expression {
            case .property(let n): name = n
            case .systemProperty(let n, let escaped): name = escaped ? "{$\(n)}" : "$" + n
            default: continue
            }
            if other.type == .number {
                return " (message properties are strings: compare AS_NUMBER(\(name)) with a number, or \(name) with a quoted string)"
            }
            if case .literal(.bool(let b)) = other.expression {
                return " (message properties are strings: compare \(name) with '\(b)')"
            }
        }
        return ""
    }

    /// A new node over `children`, refused when the tree grows past `Route.maxDepth`.
    private func node(_ expression: RouteExpression, _ type: ValueType, _ children: [Typed], at position: Int, _ token: Token) throws(RouteError) -> Typed {
        let height = (children.map(\.height).max() ?? 0) + 1
        if height > Route.maxDepth { throw tooDeep(token) }
        return Typed(expression: expression, type: type, height: height, position: position)
    }
}
