/// Reads one route: `[SELECT *] FROM <path> [WHERE <condition>] INTO <sink>`. The path is read
/// as raw text up to the next space (its segments may hold characters that are operators in a
/// condition); the rest is tokenized. Conditions are in `Parser+Condition.swift`.
struct Parser {
    let scalars: [Unicode.Scalar]
    var tokens: [Token] = []
    /// The lexical error after the last token, thrown only when the parser reaches it, so
    /// errors are reported left to right.
    var lexicalError: RouteError?
    var index = 0
    var depth = 0

    init(_ text: String, maxLength: Int) throws(RouteError) {
        scalars = Array(text.unicodeScalars)
        if scalars.count > maxLength { throw RouteError(.limit, at: maxLength, "route is longer than \(maxLength) characters") }
    }

    mutating func parseRoute() throws(RouteError) -> (RouteSource, RouteExpression?, RouteSink) {
        var i = 0
        try parseHead(&i)
        let source = try parseSource(&i)
        var lexer = Lexer(scalars, from: i)
        (tokens, lexicalError) = lexer.tokenize()
        let condition = try acceptKeyword("WHERE") ? try parseCondition() : nil
        let into = try peek()
        guard into.isKeyword("INTO") else { throw expected(condition == nil ? "WHERE or INTO" : "an operator or INTO", into) }
        index += 1
        let sink = try parseSink()
        let last = try peek()
        guard last.kind == .end else { throw expected("end of route", last) }
        return (source, condition, sink)
    }

    // MARK: FROM

    /// `FROM`, or edgeHub's older `SELECT * FROM`.
    private func parseHead(_ i: inout Int) throws(RouteError) {
        skipSpace(&i)
        var start = i
        var word = readWord(&i)
        if word.uppercased() == "SELECT" {
            skipSpace(&i)
            guard i < scalars.count, scalars[i] == "*" else { throw RouteError(.syntax, at: i, "expected '*' after SELECT, found \(found(at: i))") }
            i += 1
            skipSpace(&i)
            start = i
            word = readWord(&i)
        }
        guard word.uppercased() == "FROM" else { throw RouteError(.syntax, at: start, "expected FROM, found \(found(at: start))") }
    }

    /// The path after FROM, one of `RouteSource.forms`; keywords in any case, a trailing `/*`
    /// optional as in edgeHub, which matches sources by prefix.
    private func parseSource(_ i: inout Int) throws(RouteError) -> RouteSource {
        skipSpace(&i)
        let pathStart = i
        guard i < scalars.count, scalars[i] == "/" else {
            throw RouteError(.syntax, at: i, "expected a source path (\(RouteSource.forms)), found \(found(at: i))")
        }
        var segments: [(text: String, position: Int)] = []
        while i < scalars.count, scalars[i] == "/" {
            i += 1
            let start = i
            while i < scalars.count, !scalars[i].properties.isWhitespace, scalars[i] != "/" { i += 1 }
            let segment = text(start..<i)
            if segment.isEmpty { throw RouteError(.source, at: start, "empty segment in the source path") }
            if segment != "*", let bad = segment.unicodeScalars.first(where: Self.notInSegment) {
                throw RouteError(.source, at: start, "'\(String(bad))' cannot appear in a source segment ('\(segment)'); '*' stands alone at the end")
            }
            if let last = segments.last, last.text == "*" {
                throw RouteError(.source, at: last.position, "'*' must end the source path")
            }
            segments.append((segment, start))
        }
        if segments.last?.text == "*" { segments.removeLast() }
        let names = segments.map { $0.text }
        let words = names.map { $0.lowercased() }
        switch words.count {
        case 0 where text(pathStart..<i) == "/*": return .all
        case 1 where words[0] == "messages": return .messages
        case 1 where words[0] == "twinchangenotifications": return .twinChangeNotifications
        case 2 where words == ["messages", "modules"]: return .modules
        case 3 where words[..<2] == ["messages", "modules"]: return .module(names[2])
        case 4 where words[..<2] == ["messages", "modules"] && words[3] == "outputs": return .moduleOutputs(names[2])
        case 5 where words[..<2] == ["messages", "modules"] && words[3] == "outputs": return .moduleOutput(names[2], output: names[4])
        default:
            // Point at the first segment that strays from every form.
            let expected: [String?] = [words.first == "twinchangenotifications" ? nil : "messages", "modules", nil, "outputs", nil]
            var at = pathStart
            for (k, segment) in segments.enumerated() {
                at = segment.position
                if k >= expected.count || (expected[k] != nil && words[k] != expected[k]) { break }
            }
            throw RouteError(.source, at: at, "unknown source '\(text(pathStart..<i))'; sources are \(RouteSource.forms)")
        }
    }

    /// Characters edgeHub's route grammar keeps out of path segments, and quotes.
    private static func notInSegment(_ s: Unicode.Scalar) -> Bool {
        "()<>@,;:\\\"'[]?={}*".unicodeScalars.contains(s) || s.properties.generalCategory == .control
    }

    // MARK: INTO

    private mutating func parseSink() throws(RouteError) -> RouteSink {
        let token = try advance()
        switch token.kind {
        case .dollar(let name) where name.lowercased() == "upstream":
            return .upstream
        case .name(let name) where name.lowercased() == "brokeredendpoint":
            try expect("(", "'(' after BrokeredEndpoint")
            let address = try advance()
            guard case .string(let value) = address.kind else {
                throw expected("a quoted address \"/modules/{moduleId}/inputs/{input}\"", address)
            }
            let sink = try parseAddress(value, token: address)
            try expect(")", "')' after the address")
            return sink
        default:
            throw RouteError(.sink, at: token.position, "expected a sink, \(RouteSink.forms), found \(token.quoted)")
        }
    }

    /// `/modules/{moduleId}/inputs/{input}`, keywords in any case.
    private func parseAddress(_ address: String, token: Token) throws(RouteError) -> RouteSink {
        // By Unicode scalar, so that a combining mark cannot hide a '/'.
        let parts = address.unicodeScalars.split(separator: "/", omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)) }
        let valid = parts.count == 5 && parts[0].isEmpty && parts[1].lowercased() == "modules" && parts[3].lowercased() == "inputs"
            && [parts[2], parts[4]].allSatisfy { !$0.isEmpty && !$0.unicodeScalars.contains(where: Self.notInAddress) }
        guard valid else {
            throw RouteError(.sink, at: token.position, "expected an address \"/modules/{moduleId}/inputs/{input}\", found \(token.quoted)")
        }
        return .moduleInput(moduleId: parts[2], input: parts[4])
    }

    private static func notInAddress(_ s: Unicode.Scalar) -> Bool {
        s.properties.isWhitespace || s.properties.generalCategory == .control || "\"'\\".unicodeScalars.contains(s)
    }

    // MARK: scanning the head

    private func skipSpace(_ i: inout Int) {
        while i < scalars.count, scalars[i].properties.isWhitespace { i += 1 }
    }

    private func readWord(_ i: inout Int) -> String {
        let start = i
        while i < scalars.count, Lexer.isNameStart(scalars[i]) { i += 1 }
        return text(start..<i)
    }

    /// What stands at `i`, for "found …": up to the next space, or "end of route".
    private func found(at i: Int) -> String {
        guard i < scalars.count else { return "end of route" }
        var end = i
        while end < scalars.count, end - i < 40, !scalars[end].properties.isWhitespace { end += 1 }
        return "'\(text(i..<end))'"
    }

    func text(_ range: Range<Int>) -> String {
        var s = String.UnicodeScalarView()
        s.append(contentsOf: scalars[range])
        return String(s)
    }

    // MARK: tokens

    func peek(_ offset: Int = 0) throws(RouteError) -> Token {
        let i = index + offset
        if i < tokens.count { return tokens[i] }
        if let lexicalError { throw lexicalError }
        return tokens[tokens.count - 1]  // .end
    }

    mutating func advance() throws(RouteError) -> Token {
        let token = try peek()
        if token.kind != .end { index += 1 }
        return token
    }

    mutating func accept(_ symbol: String) throws(RouteError) -> Bool {
        guard try peek().isSymbol(symbol) else { return false }
        index += 1
        return true
    }

    mutating func expect(_ symbol: String, _ what: String) throws(RouteError) {
        let token = try peek()
        guard token.isSymbol(symbol) else { throw expected(what, token) }
        index += 1
    }

    mutating func acceptKeyword(_ word: String) throws(RouteError) -> Bool {
        guard try peek().isKeyword(word) else { return false }
        index += 1
        return true
    }

    /// One more level of nesting at `token`, refused past `Route.maxDepth`.
    mutating func enter(_ token: Token) throws(RouteError) {
        depth += 1
        if depth > Route.maxDepth { throw tooDeep(token) }
    }

    func tooDeep(_ token: Token) -> RouteError {
        RouteError(.limit, at: token.position, "condition is nested more than \(Route.maxDepth) levels deep")
    }

    func expected(_ what: String, _ token: Token) -> RouteError {
        RouteError(.syntax, at: token.position, "expected \(what), found \(token.quoted)")
    }
}
