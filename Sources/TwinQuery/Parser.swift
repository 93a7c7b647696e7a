import Twin

/// Recursive descent over the tokens of one query. Precedence, loosest first: OR, AND, NOT,
/// then a comparison or IN/NIN between operands (a literal, a field, a function call or a
/// parenthesised condition).
struct Parser {
    private let tokens: [Token]
    /// The lexical error after the last token, thrown only when the parser reaches it, so
    /// errors are reported left to right.
    private let lexicalError: QueryError?
    private var index = 0
    private var depth = 0

    /// Words that cannot start a field path (after a dot any name is a property).
    private static let reserved: Set<String> = [
        "SELECT", "TOP", "FROM", "WHERE", "GROUP", "BY", "AS", "AND", "OR", "NOT", "IN", "NIN", "TRUE", "FALSE", "NULL",
    ]

    init(_ text: String, maxLength: Int) throws(QueryError) {
        var lexer = Lexer(text)
        if lexer.count > maxLength { throw QueryError(position: maxLength, reason: .tooLong(limit: maxLength)) }
        (tokens, lexicalError) = lexer.tokenize()
    }

    mutating func parseQuery() throws(QueryError) -> Query {
        try expectKeyword("SELECT")
        let top = try parseTop()
        let (selection, itemPositions) = try parseSelection()
        try expectKeyword("FROM")
        let source = try parseSource()
        let condition = try acceptKeyword("WHERE") ? parseOr() : nil
        var groupBy: [FieldPath] = []
        let groupToken = try peek()
        if try acceptKeyword("GROUP") {
            try expectKeyword("BY")
            repeat { groupBy.append(try parsePath(expecting: "a field to group by")) } while try accept(",")
        }
        let last = try peek()
        guard last.kind == .end else { throw expected("end of query", last) }
        let query = Query(top: top, selection: selection, source: source, condition: condition, groupBy: groupBy)
        try checkGrouping(query, itemPositions: itemPositions, groupPosition: groupToken.position)
        return query
    }

    // MARK: clauses

    private mutating func parseTop() throws(QueryError) -> Int? {
        guard try acceptKeyword("TOP") else { return nil }
        let token = try advance()
        guard case .number(let n) = token.kind else { throw expected("a number after TOP", token) }
        guard n >= 0, n <= Double(Int32.max), n == n.rounded() else {
            throw QueryError(position: token.position, reason: .invalidTop(describe(token)))
        }
        return Int(n)
    }

    /// The selection, and where each item starts (for errors found once FROM and GROUP BY are read).
    private mutating func parseSelection() throws(QueryError) -> (Query.Selection, [Int]) {
        if try accept("*") { return (.all, []) }
        var items: [Query.SelectItem] = []
        var positions: [Int] = []
        repeat {
            positions.append(try peek().position)
            items.append(try parseSelectItem())
        } while try accept(",")
        return (.items(items), positions)
    }

    private mutating func parseSelectItem() throws(QueryError) -> Query.SelectItem {
        let path: FieldPath?
        if isKeyword(try peek(), "COUNT"), try peek(1).kind == .symbol("(") {
            index += 2
            try expect(")", "')' (COUNT takes no argument)")
            path = nil
        } else {
            path = try parsePath(expecting: "*, a field or COUNT()")
        }
        var alias: String?
        if try acceptKeyword("AS") {
            let token = try advance()
            guard case .identifier(let name) = token.kind, !Self.reserved.contains(name.uppercased()) else {
                throw expected("a name after AS", token)
            }
            alias = name
        }
        if let path { return .field(path, alias: alias) }
        return .count(alias: alias)
    }

    private mutating func parseSource() throws(QueryError) -> Query.Source {
        let token = try advance()
        guard case .identifier(let name) = token.kind else { throw expected("devices or devices.modules", token) }
        var written = name
        if try accept(".") {
            let next = try advance()
            written += "." + next.text
            if isKeyword(token, "devices"), isKeyword(next, "modules") { return .modules }
        } else if isKeyword(token, "devices") {
            return .devices
        }
        throw QueryError(position: token.position, reason: .unsupportedSource(written))
    }

    /// Fields selected beside COUNT() or with GROUP BY must be grouped fields: other fields
    /// differ from twin to twin within a group.
    private func checkGrouping(_ query: Query, itemPositions: [Int], groupPosition: Int) throws(QueryError) {
        guard case .items(let items) = query.selection else {
            if !query.groupBy.isEmpty { throw QueryError(position: groupPosition, reason: .groupByNeedsFields) }
            return
        }
        guard query.isAggregate else { return }
        for (item, position) in zip(items, itemPositions) {
            guard case .field(let path, _) = item else { continue }
            if !query.groupBy.contains(where: { $0.sameProperty(as: path, in: query.source) }) {
                throw QueryError(position: position, reason: .notGrouped(path.description))
            }
        }
    }

    // MARK: conditions

    private mutating func parseOr() throws(QueryError) -> QueryExpression {
        var operands = [try parseAnd()]
        while try acceptKeyword("OR") { operands.append(try parseAnd()) }
        return operands.count == 1 ? operands[0] : .or(operands)
    }

    private mutating func parseAnd() throws(QueryError) -> QueryExpression {
        var operands = [try parseNot()]
        while try acceptKeyword("AND") { operands.append(try parseNot()) }
        return operands.count == 1 ? operands[0] : .and(operands)
    }

    private mutating func parseNot() throws(QueryError) -> QueryExpression {
        let token = try peek()
        guard isKeyword(token, "NOT") else { return try parsePredicate() }
        index += 1
        try enter(token)
        defer { depth -= 1 }
        return .not(try parseNot())
    }

    private mutating func parsePredicate() throws(QueryError) -> QueryExpression {
        let left = try parseOperand()
        let token = try peek()
        if case .symbol(let s) = token.kind, let op = s == "<>" ? .notEqual : ComparisonOperator(rawValue: s) {
            index += 1
            return .comparison(left, op, try parseOperand())
        }
        if isKeyword(token, "IN") || isKeyword(token, "NIN") {
            index += 1
            return .membership(left, try parseArray(), negated: isKeyword(token, "NIN"))
        }
        if isKeyword(token, "NOT"), try isKeyword(peek(1), "IN") {
            index += 2
            return .membership(left, try parseArray(), negated: true)
        }
        return left
    }

    private mutating func parseOperand() throws(QueryError) -> QueryExpression {
        let token = try peek()
        switch token.kind {
        case .string, .number:
            return .literal(try parseLiteral())
        case .symbol("("):
            index += 1
            try enter(token)
            defer { depth -= 1 }
            let inner = try parseOr()
            try expect(")", "')' or a condition operator")
            return inner
        case .identifier(let name):
            if ["TRUE", "FALSE", "NULL"].contains(name.uppercased()) { return .literal(try parseLiteral()) }
            if try peek(1).kind == .symbol("(") { return try parseCall() }
            return .field(try parsePath(expecting: "a value, a field or a condition"))
        default:
            throw expected("a value, a field or a condition", token)
        }
    }

    private mutating func parseCall() throws(QueryError) -> QueryExpression {
        let name = try advance()
        guard let function = QueryFunction(name: name.text) else {
            throw QueryError(position: name.position, reason: .unknownFunction(name.text))
        }
        index += 1  // the "(" that parseOperand saw
        try enter(name)
        defer { depth -= 1 }
        var arguments: [QueryExpression] = []
        if try !accept(")") {
            repeat { arguments.append(try parseOr()) } while try accept(",")
            try expect(")", "',' or ')'")
        }
        guard arguments.count == function.argumentCount else {
            throw QueryError(position: name.position, reason: .wrongArgumentCount(
                function: function.rawValue, expected: function.argumentCount, found: arguments.count))
        }
        return .call(function, arguments)
    }

    private mutating func parseArray() throws(QueryError) -> [JSONValue] {
        try expect("[", "'[' starting a list of values")
        var values: [JSONValue] = []
        if try accept("]") { return values }
        repeat { values.append(try parseLiteral()) } while try accept(",")
        try expect("]", "',' or ']'")
        return values
    }

    private mutating func parseLiteral() throws(QueryError) -> JSONValue {
        let token = try advance()
        switch token.kind {
        case .string(let s): return .string(s)
        case .number(let n): return .number(n)
        case .identifier(let name) where name.uppercased() == "TRUE": return true
        case .identifier(let name) where name.uppercased() == "FALSE": return false
        case .identifier(let name) where name.uppercased() == "NULL": return .null
        default: throw expected("a string, number, true, false or null", token)
        }
    }

    /// `name(.name | ['quoted name'])*`; the first name may not be a keyword.
    private mutating func parsePath(expecting what: String) throws(QueryError) -> FieldPath {
        let first = try advance()
        guard case .identifier(let name) = first.kind, !Self.reserved.contains(name.uppercased()) else {
            throw expected(what, first)
        }
        var segments = [name]
        while true {
            if try accept(".") {
                let token = try advance()
                guard case .identifier(let key) = token.kind else { throw expected("a property name after '.'", token) }
                segments.append(key)
            } else if try peek().kind == .symbol("["), case .string(let key) = try peek(1).kind {
                index += 2
                try expect("]", "']'")
                segments.append(key)
            } else {
                return FieldPath(segments)
            }
        }
    }

    // MARK: tokens

    private func peek(_ offset: Int = 0) throws(QueryError) -> Token {
        let i = index + offset
        if i < tokens.count { return tokens[i] }
        if let lexicalError { throw lexicalError }
        return tokens[tokens.count - 1]  // .end
    }

    private mutating func advance() throws(QueryError) -> Token {
        let token = try peek()
        if token.kind != .end { index += 1 }
        return token
    }

    private mutating func accept(_ symbol: String) throws(QueryError) -> Bool {
        guard try peek().kind == .symbol(symbol) else { return false }
        index += 1
        return true
    }

    private mutating func expect(_ symbol: String, _ what: String) throws(QueryError) {
        let token = try peek()
        guard token.kind == .symbol(symbol) else { throw expected(what, token) }
        index += 1
    }

    private mutating func acceptKeyword(_ word: String) throws(QueryError) -> Bool {
        guard isKeyword(try peek(), word) else { return false }
        index += 1
        return true
    }

    private mutating func expectKeyword(_ word: String) throws(QueryError) {
        let token = try peek()
        guard isKeyword(token, word) else { throw expected(word, token) }
        index += 1
    }

    private func isKeyword(_ token: Token, _ word: String) -> Bool {
        if case .identifier(let name) = token.kind { return name.uppercased() == word.uppercased() }
        return false
    }

    /// One more level of nesting at `token`, refused past `Query.maxDepth`.
    private mutating func enter(_ token: Token) throws(QueryError) {
        depth += 1
        if depth > Query.maxDepth { throw QueryError(position: token.position, reason: .tooDeep(limit: Query.maxDepth)) }
    }

    private func expected(_ what: String, _ token: Token) -> QueryError {
        QueryError(position: token.position, reason: .expected(what, found: describe(token)))
    }

    private func describe(_ token: Token) -> String {
        if token.kind == .end { return "end of query" }
        let scalars = token.text.unicodeScalars
        if scalars.count <= 40 { return "'\(token.text)'" }
        var short = String.UnicodeScalarView()
        short.append(contentsOf: scalars.prefix(40))
        return "'\(String(short))…'"
    }
}
