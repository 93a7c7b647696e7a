/// Expressions, loosest first: `or`, `and`, then one comparison, string operator, `in (…)` or
/// `between (… .. …)` between additive operands, `+ -`, `* / %`, unary minus, postfix member
/// access, and primaries (literals, columns, calls, parentheses).
extension Parser {
    mutating func parseExpression() throws(LogQueryError) -> LogExpression {
        var operands = [try parseAnd()]
        while try acceptWord("or") { operands.append(try parseAnd()) }
        return operands.count == 1 ? operands[0] : .or(operands)
    }

    private mutating func parseAnd() throws(LogQueryError) -> LogExpression {
        var operands = [try parseComparison()]
        while try acceptWord("and") { operands.append(try parseComparison()) }
        return operands.count == 1 ? operands[0] : .and(operands)
    }

    private static let comparisonSymbols: [String: BinaryOperator] = [
        "==": .equal, "!=": .notEqual, "<>": .notEqual, "<": .less, "<=": .lessOrEqual, ">": .greater, ">=": .greaterOrEqual,
        "=~": .equalIgnoringCase, "!~": .notEqualIgnoringCase,
    ]

    private mutating func parseComparison() throws(LogQueryError) -> LogExpression {
        let saved = depth
        defer { depth = saved }
        let left = try parseAdditive()
        let token = try peek()
        let word = token.identifier?.lowercased()
        var op: BinaryOperator?
        if case .symbol(let s) = token.kind { op = Self.comparisonSymbols[s] }
        if let word, op == nil { op = BinaryOperator.words[word] }
        if let op {
            index += 1
            try enter(token)
            return .binary(op, left, try parseAdditive(), position: token.position)
        }
        if let word, let listOperator = ListOperator(rawValue: word) {
            index += 1
            try enter(token)
            return .list(listOperator, left, try parseList(), position: token.position)
        }
        if word == "between" || word == "!between" {
            index += 1
            try enter(token)
            try expect("(", "'(' after \(token.text)")
            let low = try parseAdditive()
            try expect("..", "'..' between the bounds")
            let high = try parseAdditive()
            try expect(")", "')' after the bounds")
            return .between(left, low: low, high: high, negated: word == "!between", position: token.position)
        }
        return left
    }

    private mutating func parseList() throws(LogQueryError) -> [LogExpression] {
        try expect("(", "'(' starting a list of values")
        var items: [LogExpression] = []
        repeat { items.append(try parseExpression()) } while try accept(",")
        try expect(")", "',' or ')'")
        return items
    }

    private mutating func parseAdditive() throws(LogQueryError) -> LogExpression {
        let saved = depth
        defer { depth = saved }
        var left = try parseMultiplicative()
        while case .symbol(let s) = try peek().kind, let op = BinaryOperator(rawValue: s), op == .add || op == .subtract {
            let token = try advance()
            try enter(token)
            left = .binary(op, left, try parseMultiplicative(), position: token.position)
        }
        return left
    }

    private mutating func parseMultiplicative() throws(LogQueryError) -> LogExpression {
        let saved = depth
        defer { depth = saved }
        var left = try parseUnary()
        while case .symbol(let s) = try peek().kind, let op = BinaryOperator(rawValue: s), op == .multiply || op == .divide || op == .modulo {
            let token = try advance()
            try enter(token)
            left = .binary(op, left, try parseUnary(), position: token.position)
        }
        return left
    }

    private mutating func parseUnary() throws(LogQueryError) -> LogExpression {
        let token = try peek()
        guard token.isSymbol("-") || token.isSymbol("+") else { return try parsePostfix() }
        let saved = depth
        defer { depth = saved }
        index += 1
        try enter(token)
        let operand = try parseUnary()
        return token.isSymbol("-") ? .negate(operand, position: token.position) : operand
    }

    private mutating func parsePostfix() throws(LogQueryError) -> LogExpression {
        let saved = depth
        defer { depth = saved }
        var base = try parsePrimary()
        while true {
            let token = try peek()
            if token.isSymbol(".") {
                index += 1
                try enter(token)
                let name = try advance()
                guard let key = name.identifier else { throw expected("a property name after '.'", name) }
                base = .member(base, key, position: token.position)
            } else if token.isSymbol("[") {
                index += 1
                try enter(token)
                let key = try parseExpression()
                try expect("]", "']'")
                base = .index(base, key, position: token.position)
            } else {
                return base
            }
        }
    }

    private mutating func parsePrimary() throws(LogQueryError) -> LogExpression {
        let token = try peek()
        switch token.kind {
        case .string(let s):
            index += 1
            return .literal(.string(s), position: token.position)
        case .long(let n):
            index += 1
            return .literal(.long(n), position: token.position)
        case .real(let x):
            index += 1
            return .literal(.real(x), position: token.position)
        case .timespan(let ticks):
            index += 1
            return .timespanLiteral(ticks: ticks, position: token.position)
        case .datetime(let ticks):
            index += 1
            return .datetimeLiteral(ticks: ticks, position: token.position)
        case .symbol("("):
            let saved = depth
            defer { depth = saved }
            index += 1
            try enter(token)
            let inner = try parseExpression()
            try expect(")", "')'")
            return inner
        case .symbol("["):
            let name = try parseName(expecting: "a column, a value or a function call")
            return .column(name.text, position: name.position)
        case .identifier(let name):
            let lower = name.lowercased()
            if lower == "true" || lower == "false" {
                index += 1
                return .literal(.bool(lower == "true"), position: token.position)
            }
            if try peek(1).isSymbol("(") { return try parseCall() }
            if searchMode, try peek(1).isSymbol(":"), case .string(let term) = try peek(2).kind {
                index += 3
                return .searchTerm(term, column: Name(text: name, position: token.position), position: token.position)
            }
            guard Self.isPlainName(name) else { throw expected("a column, a value or a function call", token) }
            index += 1
            return .column(name, position: token.position)
        default:
            throw expected("a column, a value or a function call", token)
        }
    }

    private mutating func parseCall() throws(LogQueryError) -> LogExpression {
        let saved = depth
        defer { depth = saved }
        let name = try advance()
        guard let function = LogFunction(name: name.text) else {
            throw LogQueryError(.syntax, at: name.position, "unknown function '\(name.text)'")
        }
        index += 1  // the "(" that parsePrimary saw
        try enter(name)
        var arguments: [LogExpression] = []
        if try !accept(")") {
            repeat {
                let token = try peek()
                if (function == .argMax || function == .argMin), !arguments.isEmpty, token.isSymbol("*") {
                    index += 1
                    arguments.append(.star(position: token.position))
                } else {
                    arguments.append(try parseExpression())
                }
            } while try accept(",")
            try expect(")", "',' or ')'")
        }
        guard function.arity.contains(arguments.count) else {
            throw LogQueryError(.syntax, at: name.position, "\(function.rawValue)() takes \(function.arityText), found \(arguments.count)")
        }
        return .call(function, arguments, position: name.position)
    }
}
