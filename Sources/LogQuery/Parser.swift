/// Recursive descent over the tokens of one query: a source, then tabular operators after `|`.
/// Expressions are in `Parser+Expression.swift`.
struct Parser {
    let tokens: [Token]
    /// The lexical error after the last token, thrown only when the parser reaches it, so
    /// errors are reported left to right.
    let lexicalError: LogQueryError?
    var index = 0
    var depth = 0
    /// Inside a `search` predicate, where `col:"term"` is allowed.
    var searchMode = false

    static let tabularOperators =
        "a tabular operator (where, project, project-away, project-rename, extend, summarize, order by, sort by, take, limit, top, distinct, count, search)"

    init(_ text: String, maxLength: Int) throws(LogQueryError) {
        var lexer = Lexer(text)
        if lexer.count > maxLength { throw LogQueryError(.limit, at: maxLength, "query is longer than \(maxLength) characters") }
        (tokens, lexicalError) = lexer.tokenize()
    }

    mutating func parseQuery() throws(LogQueryError) -> LogQuery {
        let source = try parseSource()
        var operators: [TabularOperator] = []
        while try accept("|") { operators.append(try parseOperator()) }
        let last = try peek()
        guard last.kind == .end else {
            // `where Level = "Error"`: SQL's equality.
            throw expected(last.isSymbol("=") ? "'|' or end of query (compare with ==)" : "'|' or end of query", last)
        }
        return LogQuery(source: source, operators: operators)
    }

    // MARK: sources

    private mutating func parseSource() throws(LogQueryError) -> Source {
        let token = try peek()
        if try acceptWord("search") {
            var tables: [Name]?
            if try peek().isWord("in"), try peek(1).isSymbol("(") {
                index += 2
                tables = try parseNames(expecting: "a table name")
                try expect(")", "',' or ')'")
            }
            return .search(tables: tables, predicate: try parseSearchPredicate())
        }
        if try acceptWord("union") {
            var withSource: Name?
            if try peek().isWord("withsource"), try peek(1).isSymbol("=") {
                index += 2
                withSource = try parseName(expecting: "a column name after withsource=")
            }
            if try accept("*") { return .union(withSource: withSource, tables: nil) }
            return .union(withSource: withSource, tables: try parseNames(expecting: "a table name or *"))
        }
        if try acceptWord("print") { return .print(try parseNamedExpressions()) }
        // A query that starts with an operator has forgotten its table.
        let startsWithOperator = token.identifier.map { Self.sourceWords.contains($0.lowercased()) } ?? false
        if !startsWithOperator, token.identifier != nil || token.isSymbol("[") {
            return .table(try parseName(expecting: "a table name, search, union or print"))
        }
        throw expected("a table name, search, union or print", token)
    }

    /// `*` (every row) or a predicate whose bare strings are search terms.
    private mutating func parseSearchPredicate() throws(LogQueryError) -> LogExpression? {
        if try peek().isSymbol("*") {
            let next = try peek(1)
            if next.kind == .end || next.isSymbol("|") {
                index += 1
                return nil
            }
        }
        searchMode = true
        defer { searchMode = false }
        return Self.searchTerms(in: try parseExpression())
    }

    /// A bare string where a condition stands is a search term.
    private static func searchTerms(in expression: LogExpression) -> LogExpression {
        switch expression {
        case .literal(.string(let term), let position): .searchTerm(term, column: nil, position: position)
        case .and(let operands): .and(operands.map(searchTerms))
        case .or(let operands): .or(operands.map(searchTerms))
        case .call(.not, let arguments, let position): .call(.not, arguments.map(searchTerms), position: position)
        default: expression
        }
    }

    // MARK: tabular operators

    private mutating func parseOperator() throws(LogQueryError) -> TabularOperator {
        let token = try advance()
        switch token.identifier?.lowercased() {
        case "where", "filter":
            return .where(try parseExpression())
        case "search":
            return .search(try parseSearchPredicate())
        case "project":
            return try parseProject(token)
        case "extend":
            return .extend(try parseNamedExpressions())
        case "summarize":
            return try parseSummarize(token)
        case "order", "sort":
            try expectWord("by", "'by' after \(token.text)")
            var keys: [SortKey] = []
            repeat { keys.append(try parseSortKey()) } while try accept(",")
            return .sort(keys)
        case "take", "limit":
            return .take(try parseRowCount())
        case "top":
            let count = try parseRowCount()
            try expectWord("by", "'by' after top \(count)")
            return .top(count, try parseSortKey())
        case "distinct":
            if try accept("*") { return .distinct(nil) }
            return .distinct(try parseNames(expecting: "a column name or *"))
        case "count":
            return .count
        default:
            throw expected(Self.tabularOperators, token)
        }
    }

    /// `project`, or `project-away` / `project-rename` (three tokens written together).
    private mutating func parseProject(_ token: Token) throws(LogQueryError) -> TabularOperator {
        let dash = try peek()
        let word = try peek(1)
        guard dash.isSymbol("-"), dash.position == token.end, let suffix = word.identifier, word.position == dash.end else {
            return .project(try parseNamedExpressions())
        }
        index += 2
        switch suffix.lowercased() {
        case "away":
            return .projectAway(try parseNames(expecting: "a column name"))
        case "rename":
            var renames: [Rename] = []
            repeat {
                let new = try parseName(expecting: "new name = old name")
                try expect("=", "'=' (project-rename new name = old name)")
                renames.append(Rename(new: new, old: try parseName(expecting: "the column to rename")))
            } while try accept(",")
            return .projectRename(renames)
        default:
            throw LogQueryError(.syntax, at: token.position, "expected \(Self.tabularOperators), found 'project-\(suffix)'")
        }
    }

    private mutating func parseSummarize(_ token: Token) throws(LogQueryError) -> TabularOperator {
        var aggregates: [NamedExpression] = []
        if try !peek().isWord("by") {
            repeat {
                let item = try parseNamedExpression()
                guard case .call(let function, _, _) = item.expression, function.isAggregate else {
                    throw LogQueryError(.syntax, at: item.expression.start,
                                        "expected an aggregation (\(LogFunction.aggregationList)), found \(quotedToken(at: item.expression.start))")
                }
                aggregates.append(item)
            } while try accept(",")
        }
        var groups: [NamedExpression] = []
        if try acceptWord("by") { groups = try parseNamedExpressions() }
        return .summarize(aggregates: aggregates, by: groups, position: token.position)
    }

    private mutating func parseSortKey() throws(LogQueryError) -> SortKey {
        let expression = try parseExpression()
        var ascending = false
        if try acceptWord("asc") {
            ascending = true
        } else {
            _ = try acceptWord("desc")
        }
        var nullsFirst: Bool?
        if try acceptWord("nulls") {
            if try acceptWord("first") {
                nullsFirst = true
            } else {
                try expectWord("last", "first or last after nulls")
                nullsFirst = false
            }
        }
        return SortKey(expression: expression, ascending: ascending, nullsFirst: nullsFirst)
    }

    private mutating func parseRowCount() throws(LogQueryError) -> Int {
        let token = try advance()
        guard case .long(let n) = token.kind, n <= Int.max else { throw expected("a number of rows", token) }
        return Int(n)
    }

    // MARK: names

    /// `a, b = expr, …`: the items of project, extend, print and summarize by.
    mutating func parseNamedExpressions() throws(LogQueryError) -> [NamedExpression] {
        var items: [NamedExpression] = []
        repeat { items.append(try parseNamedExpression()) } while try accept(",")
        return items
    }

    private mutating func parseNamedExpression() throws(LogQueryError) -> NamedExpression {
        var name: Name?
        let first = try peek()
        if let text = first.identifier, Self.isPlainName(text), try peek(1).isSymbol("=") {
            name = Name(text: text, position: first.position)
            index += 2
        } else if first.isSymbol("["), case .string(let text) = try peek(1).kind, try peek(2).isSymbol("]"), try peek(3).isSymbol("=") {
            name = Name(text: text, position: first.position)
            index += 4
        }
        return NamedExpression(name: name, expression: try parseExpression())
    }

    private mutating func parseNames(expecting what: String) throws(LogQueryError) -> [Name] {
        var names: [Name] = []
        repeat { names.append(try parseName(expecting: what)) } while try accept(",")
        return names
    }

    /// A name, bare or as `['any text']`.
    mutating func parseName(expecting what: String) throws(LogQueryError) -> Name {
        let token = try peek()
        if let text = token.identifier, Self.isPlainName(text) {
            index += 1
            return Name(text: text, position: token.position)
        }
        if token.isSymbol("["), case .string(let text) = try peek(1).kind, try peek(2).isSymbol("]") {
            index += 3
            return Name(text: text, position: token.position)
        }
        throw expected(what, token)
    }

    /// Words that are operators, not names; a column so named is written `['by']`.
    static let reserved: Set<String> = Set(["and", "or", "by", "asc", "desc", "nulls", "true", "false", "between", "!between"])
        .union(BinaryOperator.words.keys).union(ListOperator.allCases.map(\.rawValue))

    /// Words that cannot start a query as a table name: operators, and the sources themselves.
    static let sourceWords: Set<String> = [
        "where", "filter", "project", "extend", "summarize", "order", "sort", "take", "limit", "top", "distinct", "count",
        "search", "union", "print",
    ]

    static func isPlainName(_ text: String) -> Bool { !text.hasPrefix("!") && !reserved.contains(text.lowercased()) }

    // MARK: tokens

    func peek(_ offset: Int = 0) throws(LogQueryError) -> Token {
        let i = index + offset
        if i < tokens.count { return tokens[i] }
        if let lexicalError { throw lexicalError }
        return tokens[tokens.count - 1]  // .end
    }

    mutating func advance() throws(LogQueryError) -> Token {
        let token = try peek()
        if token.kind != .end { index += 1 }
        return token
    }

    mutating func accept(_ symbol: String) throws(LogQueryError) -> Bool {
        guard try peek().isSymbol(symbol) else { return false }
        index += 1
        return true
    }

    mutating func expect(_ symbol: String, _ what: String) throws(LogQueryError) {
        let token = try peek()
        guard token.isSymbol(symbol) else { throw expected(what, token) }
        index += 1
    }

    mutating func acceptWord(_ word: String) throws(LogQueryError) -> Bool {
        guard try peek().isWord(word) else { return false }
        index += 1
        return true
    }

    private mutating func expectWord(_ word: String, _ what: String) throws(LogQueryError) {
        guard try acceptWord(word) else { throw expected(what, try peek()) }
    }

    /// One more level of nesting at `token`, refused past `LogQuery.maxDepth`. Callers restore
    /// `depth` when they return.
    mutating func enter(_ token: Token) throws(LogQueryError) {
        depth += 1
        if depth > LogQuery.maxDepth {
            throw LogQueryError(.limit, at: token.position, "query is nested more than \(LogQuery.maxDepth) levels deep")
        }
    }

    func expected(_ what: String, _ token: Token) -> LogQueryError {
        LogQueryError(.syntax, at: token.position, "expected \(what), found \(token.quoted)")
    }

    private func quotedToken(at position: Int) -> String {
        tokens.first { $0.position == position }?.quoted ?? "end of query"
    }
}
