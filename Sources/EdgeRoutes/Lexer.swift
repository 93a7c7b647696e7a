/// Splits the part of a route after its FROM path into tokens. Works on Unicode scalars, so
/// positions are scalar offsets.
///
/// Names follow edgeHub loosely: `-` and `.` may appear inside a name (edgeHub reads `a-b` as
/// one property name too), so put spaces around a minus. `$` starts a system property or a
/// `$body` path, which may also hold `[index]`.
struct Lexer {
    private let scalars: [Unicode.Scalar]
    private var index: Int
    /// Where the last token ended: "end of route" is reported there, not after trailing spaces.
    private var lastEnd: Int

    /// Longest first, so `<=` is not read as `<` then `=`.
    private static let symbols = [
        "!=", "<>", "<=", ">=", "||", "??",
        "(", ")", ",", "+", "-", "*", "/", "%", "=", "<", ">", "{", "}",
    ]

    init(_ scalars: [Unicode.Scalar], from start: Int) {
        self.scalars = scalars
        index = start
        lastEnd = start
    }

    static func isNameStart(_ s: Unicode.Scalar) -> Bool { s == "_" || s.properties.isAlphabetic }

    static func isNamePart(_ s: Unicode.Scalar) -> Bool {
        isNameStart(s) || isDigit(s) || s == "-" || s == "."
    }

    static func isDigit(_ s: Unicode.Scalar) -> Bool { ("0"..."9").contains(s) }

    /// Every token through `.end`, or those before the first lexical error and the error.
    mutating func tokenize() -> (tokens: [Token], error: RouteError?) {
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

    private mutating func next() throws(RouteError) -> Token {
        while index < scalars.count, scalars[index].properties.isWhitespace { index += 1 }
        let start = index
        guard index < scalars.count else { return Token(kind: .end, position: lastEnd, end: lastEnd, text: "") }
        let c = scalars[index]
        if Self.isNameStart(c) {
            while index < scalars.count, Self.isNamePart(scalars[index]) { index += 1 }
            return token(.name(text(from: start)), from: start)
        }
        if c == "$" {
            index += 1
            while index < scalars.count, Self.isNamePart(scalars[index]) || scalars[index] == "[" || scalars[index] == "]" {
                index += 1
            }
            guard index > start + 1 else { throw RouteError(.syntax, at: start, "expected a property name after '$'") }
            return token(.dollar(text(from: start + 1)), from: start)
        }
        if c == "'" || c == "\"" {
            // Read first: `token(…)` would capture `self` before the string moved the index.
            let value = try string()
            return token(.string(value), from: start)
        }
        if Self.isDigit(c) || (c == "." && index + 1 < scalars.count && Self.isDigit(scalars[index + 1])) {
            return try number()
        }
        for symbol in Self.symbols where matches(symbol) {
            index += symbol.unicodeScalars.count
            return token(.symbol(symbol), from: start)
        }
        throw RouteError(.syntax, at: start, "unexpected character '\(String(c))'")
    }

    private func token(_ kind: Token.Kind, from start: Int) -> Token {
        Token(kind: kind, position: start, end: index, text: text(from: start))
    }

    private func text(from start: Int) -> String {
        var s = String.UnicodeScalarView()
        s.append(contentsOf: scalars[start..<index])
        return String(s)
    }

    private func matches(_ symbol: String) -> Bool {
        var i = index
        for s in symbol.unicodeScalars {
            guard i < scalars.count, scalars[i] == s else { return false }
            i += 1
        }
        return true
    }

    /// `'…'` or `"…"`; the escapes are edgeHub's: `\'`, `\"`, `\\` and `\uXXXX`.
    private mutating func string() throws(RouteError) -> String {
        let start = index
        let quote = scalars[index]
        index += 1
        var value = String.UnicodeScalarView()
        while index < scalars.count {
            let c = scalars[index]
            if c == quote {
                index += 1
                return String(value)
            }
            if c == "\\" {
                value.append(try escape())
            } else {
                value.append(c)
                index += 1
            }
        }
        throw RouteError(.syntax, at: start, "unterminated string: expected a closing \(String(quote))")
    }

    private mutating func escape() throws(RouteError) -> Unicode.Scalar {
        let start = index
        index += 1
        guard index < scalars.count else { throw invalidEscape(from: start) }
        let c = scalars[index]
        index += 1
        switch c {
        case "'", "\"", "\\": return c
        case "u", "U":
            let high = try hex4(escapeStart: start)
            if !(0xD800...0xDFFF).contains(high), let scalar = Unicode.Scalar(high) { return scalar }
            // A high surrogate must be followed by an escaped low one; together they are one scalar.
            if high <= 0xDBFF, matches("\\u") || matches("\\U") {
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

    private func invalidEscape(from start: Int) -> RouteError {
        RouteError(.syntax, at: start, "invalid escape sequence '\(text(from: start))' in a string (allowed: \\' \\\" \\\\ \\uXXXX)")
    }

    private mutating func hex4(escapeStart: Int) throws(RouteError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < scalars.count, let digit = Self.hexValue(scalars[index]) else { throw invalidEscape(from: escapeStart) }
            value = value * 16 + digit
            index += 1
        }
        return value
    }

    /// `42`, `1.5`, `.5`, `2e-3` or `0x1F`. All numbers are doubles, as in edgeHub. A sign is
    /// an operator; the parser folds `-5` into a literal.
    private mutating func number() throws(RouteError) -> Token {
        let start = index
        if matches("0x") || matches("0X") {
            index += 2
            var value: UInt64 = 0
            var digits = 0
            while index < scalars.count, let digit = Self.hexValue(scalars[index]) {
                let (shifted, overflow) = value.multipliedReportingOverflow(by: 16)
                if overflow { throw RouteError(.syntax, at: start, "hex number '\(text(from: start))…' is too large") }
                value = shifted + UInt64(digit)
                digits += 1
                index += 1
            }
            try checkEnd(start, valid: digits > 0)
            return token(.number(Double(value)), from: start)
        }
        while index < scalars.count, Self.isDigit(scalars[index]) { index += 1 }
        if index + 1 < scalars.count, scalars[index] == ".", Self.isDigit(scalars[index + 1]) {
            index += 1
            while index < scalars.count, Self.isDigit(scalars[index]) { index += 1 }
        }
        if index < scalars.count, scalars[index] == "e" || scalars[index] == "E" {
            var i = index + 1
            if i < scalars.count, scalars[i] == "+" || scalars[i] == "-" { i += 1 }
            if i < scalars.count, Self.isDigit(scalars[i]) {
                index = i
                while index < scalars.count, Self.isDigit(scalars[index]) { index += 1 }
            }
        }
        try checkEnd(start, valid: true)
        let written = text(from: start)
        guard let value = Double(written), value.isFinite else {
            throw RouteError(.syntax, at: start, "number '\(written)' is out of range")
        }
        return token(.number(value), from: start)
    }

    /// A number runs into no letters: `30abc` and `0x` are mistakes, not names.
    private mutating func checkEnd(_ start: Int, valid: Bool) throws(RouteError) {
        func isWordPart(_ s: Unicode.Scalar) -> Bool { Self.isNameStart(s) || Self.isDigit(s) }
        guard !valid || (index < scalars.count && isWordPart(scalars[index])) else { return }
        while index < scalars.count, isWordPart(scalars[index]) { index += 1 }
        throw RouteError(.syntax, at: start, "invalid number '\(text(from: start))'")
    }

    private static func hexValue(_ s: Unicode.Scalar) -> UInt32? {
        switch s {
        case "0"..."9": s.value - 0x30
        case "a"..."f": s.value - 0x61 + 10
        case "A"..."F": s.value - 0x41 + 10
        default: nil
        }
    }
}
