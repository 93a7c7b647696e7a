/// Splits query text into tokens. Works on Unicode scalars, so positions are scalar offsets.
/// Newlines are whitespace; `//` starts a comment to the end of the line.
struct Lexer {
    private let scalars: [Unicode.Scalar]
    private var index = 0
    /// Where the last token ended: "end of query" is reported there, not after trailing
    /// newlines and comments, so its caret sits on a line with text.
    private var lastEnd = 0

    /// Longest first, so `<=` is not read as `<` then `=`.
    private static let symbols = [
        "..", "==", "!=", "<>", "<=", ">=", "=~", "!~",
        "|", "(", ")", "[", "]", ",", ".", "=", "<", ">", "+", "-", "*", "/", "%", ":", ";",
    ]

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    var count: Int { scalars.count }

    static func isIdentifierStart(_ s: Unicode.Scalar) -> Bool {
        s == "_" || s == "$" || s.properties.isAlphabetic
    }

    static func isIdentifierPart(_ s: Unicode.Scalar) -> Bool {
        isIdentifierStart(s) || ("0"..."9").contains(s)
    }

    /// Every token through `.end`, or those before the first lexical error and the error.
    mutating func tokenize() -> (tokens: [Token], error: LogQueryError?) {
        var tokens: [Token] = []
        do {
            while true {
                let token = try next()
                tokens.append(token)
                if token.kind == .end { return (tokens, nil) }
                lastEnd = token.end
            }
        } catch {
            return (tokens, error)
        }
    }

    private mutating func next() throws(LogQueryError) -> Token {
        skipSpaceAndComments()
        let start = index
        guard index < scalars.count else { return Token(kind: .end, position: lastEnd, end: lastEnd, text: "") }
        let c = scalars[index]
        if Self.isIdentifierStart(c) || (c == "!" && index + 1 < scalars.count && Self.isIdentifierStart(scalars[index + 1])) {
            return try word()
        }
        if c == "'" || c == "\"" || (c == "@" && index + 1 < scalars.count && (scalars[index + 1] == "'" || scalars[index + 1] == "\"")) {
            let value = try string()
            return token(.string(value), from: start)
        }
        if isDigit(at: index) { return try number() }
        for symbol in Self.symbols where matches(symbol) {
            index += symbol.unicodeScalars.count
            return token(.symbol(symbol), from: start)
        }
        throw LogQueryError(.syntax, at: start, "unexpected character '\(String(c))'")
    }

    private mutating func skipSpaceAndComments() {
        while index < scalars.count {
            if scalars[index].properties.isWhitespace {
                index += 1
            } else if matches("//") {
                while index < scalars.count, scalars[index] != "\n" { index += 1 }
            } else {
                return
            }
        }
    }

    private func token(_ kind: Token.Kind, from start: Int) -> Token {
        Token(kind: kind, position: start, end: index, text: text(from: start))
    }

    private func text(from start: Int) -> String {
        var s = String.UnicodeScalarView()
        s.append(contentsOf: scalars[start..<index])
        return String(s)
    }

    private func isDigit(at i: Int) -> Bool { i < scalars.count && ("0"..."9").contains(scalars[i]) }

    private func matches(_ symbol: String) -> Bool {
        var i = index
        for s in symbol.unicodeScalars {
            guard i < scalars.count, scalars[i] == s else { return false }
            i += 1
        }
        return true
    }

    /// A name, or a negated operator word (`!has`), with `in~`/`!in~` read whole; `datetime(…)`
    /// and `time(…)`/`timespan(…)` are literals whose parentheses hold raw text.
    private mutating func word() throws(LogQueryError) -> Token {
        let start = index
        index += 1
        while index < scalars.count, Self.isIdentifierPart(scalars[index]) { index += 1 }
        let name = text(from: start)
        let lower = name.lowercased()
        if (lower == "in" || lower == "!in"), index < scalars.count, scalars[index] == "~" {
            index += 1
            return token(.identifier(name + "~"), from: start)
        }
        if ["datetime", "time", "timespan"].contains(lower), let content = try rawParenthesised() {
            let value = content.hasPrefix("\"") || content.hasPrefix("'") ? String(content.dropFirst().dropLast()) : content
            if lower == "datetime" {
                if value == "null" { return token(.datetime(ticks: nil), from: start) }
                guard let ticks = KustoTime.parseDatetime(value) else {
                    throw LogQueryError(.syntax, at: start, "invalid datetime '\(content)'; write datetime(2026-11-25T07:00:00Z)")
                }
                return token(.datetime(ticks: ticks), from: start)
            }
            guard let ticks = KustoTime.parseTimespan(value) else {
                throw LogQueryError(.syntax, at: start, "invalid timespan '\(content)'; write \(lower)(5m) or \(lower)(1.02:03:04)")
            }
            return token(.timespan(ticks: ticks), from: start)
        }
        return token(.identifier(name), from: start)
    }

    /// After `datetime` and optional spaces, `(raw text)`: the trimmed text, index past `)`.
    /// Nil (index unchanged) when no `(` follows, so the word is an ordinary name.
    private mutating func rawParenthesised() throws(LogQueryError) -> String? {
        var i = index
        while i < scalars.count, scalars[i] == " " || scalars[i] == "\t" { i += 1 }
        guard i < scalars.count, scalars[i] == "(" else { return nil }
        let open = i
        i += 1
        let contentStart = i
        while i < scalars.count, scalars[i] != ")", scalars[i] != "\n" { i += 1 }
        guard i < scalars.count, scalars[i] == ")" else {
            throw LogQueryError(.syntax, at: open, "expected ')' closing the literal")
        }
        var content = String.UnicodeScalarView()
        content.append(contentsOf: scalars[contentStart..<i])
        index = i + 1
        return String(KustoTime.trimmed(String(content)))
    }

    /// `'…'` or `"…"` with backslash escapes, or verbatim `@'…'` / `@"…"` without.
    private mutating func string() throws(LogQueryError) -> String {
        let start = index
        let verbatim = scalars[index] == "@"
        if verbatim { index += 1 }
        let quote = scalars[index]
        index += 1
        var value = String.UnicodeScalarView()
        while index < scalars.count {
            let c = scalars[index]
            if c == quote {
                index += 1
                return String(value)
            }
            if c == "\\", !verbatim {
                value.append(try escape())
            } else {
                value.append(c)
                index += 1
            }
        }
        throw LogQueryError(.syntax, at: start, "unterminated string: expected a closing \(String(quote))")
    }

    private mutating func escape() throws(LogQueryError) -> Unicode.Scalar {
        let start = index
        index += 1
        guard index < scalars.count else { throw invalidEscape(from: start) }
        let c = scalars[index]
        index += 1
        switch c {
        case "'", "\"", "\\", "/": return c
        case "n": return "\n"
        case "r": return "\r"
        case "t": return "\t"
        case "u":
            let high = try hex4(escapeStart: start)
            if !(0xD800...0xDFFF).contains(high), let scalar = Unicode.Scalar(high) { return scalar }
            // A high surrogate must be followed by an escaped low one; together they are one scalar.
            if high <= 0xDBFF, matches("\\u") {
                index += 2
                let low = try hex4(escapeStart: start)
                if (0xDC00...0xDFFF).contains(low), let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)) {
                    return scalar
                }
            }
            throw invalidEscape(from: start)
        default:
            throw invalidEscape(from: start)
        }
    }

    private func invalidEscape(from start: Int) -> LogQueryError {
        LogQueryError(.syntax, at: start, "invalid escape sequence '\(text(from: start))' in a string (allowed: \\' \\\" \\\\ \\/ \\n \\r \\t \\uXXXX)")
    }

    private mutating func hex4(escapeStart: Int) throws(LogQueryError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < scalars.count, let digit = scalars[index].hexDigitValue else { throw invalidEscape(from: escapeStart) }
            value = value * 16 + digit
            index += 1
        }
        return value
    }

    /// `42` (long), `1.5` / `2e-3` (real), or a timespan: digits with a unit, `5m`, `1.5h`, `100ms`.
    private mutating func number() throws(LogQueryError) -> Token {
        let start = index
        skipDigits()
        var isReal = false
        if index < scalars.count, scalars[index] == ".", isDigit(at: index + 1) {
            index += 1
            skipDigits()
            isReal = true
        }
        let mantissaEnd = index
        var hasExponent = false
        if index < scalars.count, scalars[index] == "e" || scalars[index] == "E" {
            var i = index + 1
            if i < scalars.count, scalars[i] == "+" || scalars[i] == "-" { i += 1 }
            if isDigit(at: i) {
                index = i
                skipDigits()
                hasExponent = true
            }
        }
        if index < scalars.count, Self.isIdentifierPart(scalars[index]) {
            let unitStart = index
            while index < scalars.count, Self.isIdentifierPart(scalars[index]) { index += 1 }
            let written = text(from: start)
            if !hasExponent, let ticks = KustoTime.ticks(number: Substring(written.prefix(mantissaEnd - start)),
                                                         unit: Substring(written.dropFirst(unitStart - start))) {
                return token(.timespan(ticks: ticks), from: start)
            }
            throw LogQueryError(.syntax, at: start, "invalid number '\(written)' (a timespan is a number and a unit: d, h, m, s, ms, microsecond, tick)")
        }
        let written = text(from: start)
        if !isReal && !hasExponent {
            guard let n = Int64(written) else { throw LogQueryError(.syntax, at: start, "number '\(written)' is too large for a long") }
            return token(.long(n), from: start)
        }
        guard let x = Double(written), x.isFinite else { throw LogQueryError(.syntax, at: start, "invalid number '\(written)'") }
        return token(.real(x), from: start)
    }

    private mutating func skipDigits() {
        while isDigit(at: index) { index += 1 }
    }
}

private extension Unicode.Scalar {
    var hexDigitValue: UInt32? {
        switch self {
        case "0"..."9": value - 0x30
        case "a"..."f": value - 0x61 + 10
        case "A"..."F": value - 0x41 + 10
        default: nil
        }
    }
}
