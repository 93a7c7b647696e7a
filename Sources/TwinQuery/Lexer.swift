/// One token of query text. `position` is the offset of its first Unicode scalar; `text` is the
/// token as written, for error messages.
struct Token {
    enum Kind: Equatable {
        /// A name: keyword, property, function or alias; the parser decides which.
        case identifier(String)
        case string(String)
        case number(Double)
        case symbol(String)
        case end
    }

    var kind: Kind
    var position: Int
    var text: String
}

/// Splits query text into tokens. Works on Unicode scalars, so positions are scalar offsets and
/// a combining mark can never merge with a quote into one Character.
struct Lexer {
    private let scalars: [Unicode.Scalar]
    private var index = 0

    /// Longest first, so `<=` is not read as `<` then `=`.
    private static let symbols = ["!=", "<>", "<=", ">=", "*", ",", ".", "(", ")", "[", "]", "=", "<", ">"]

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    var count: Int { scalars.count }

    static func isIdentifierStart(_ s: Unicode.Scalar) -> Bool {
        s == "_" || s == "$" || s.properties.isAlphabetic
    }

    static func isIdentifierPart(_ s: Unicode.Scalar) -> Bool {
        isIdentifierStart(s) || ("0"..."9").contains(s)
    }

    /// Every token through `.end`, or those before the first lexical error and the error.
    mutating func tokenize() -> (tokens: [Token], error: QueryError?) {
        var tokens: [Token] = []
        do {
            while true {
                let token = try next()
                tokens.append(token)
                if token.kind == .end { return (tokens, nil) }
            }
        } catch {
            return (tokens, error)
        }
    }

    private mutating func next() throws(QueryError) -> Token {
        while index < scalars.count, scalars[index].properties.isWhitespace { index += 1 }
        let start = index
        guard index < scalars.count else { return Token(kind: .end, position: start, text: "") }
        let c = scalars[index]
        if Self.isIdentifierStart(c) {
            while index < scalars.count, Self.isIdentifierPart(scalars[index]) { index += 1 }
            let name = text(from: start)
            return Token(kind: .identifier(name), position: start, text: name)
        }
        if c == "'" || c == "\"" {
            let value = try string(quote: c)
            return Token(kind: .string(value), position: start, text: text(from: start))
        }
        if isDigit(at: index) || (c == "-" && isDigit(at: index + 1)) {
            let value = try number()
            return Token(kind: .number(value), position: start, text: text(from: start))
        }
        for symbol in Self.symbols where matches(symbol) {
            index += symbol.unicodeScalars.count
            return Token(kind: .symbol(symbol), position: start, text: symbol)
        }
        throw QueryError(position: start, reason: .unexpectedCharacter(String(c)))
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

    /// A quoted string: `'…'` or `"…"`, with JSON's escapes and `\'`.
    private mutating func string(quote: Unicode.Scalar) throws(QueryError) -> String {
        let start = index
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
        throw QueryError(position: start, reason: .unterminatedString)
    }

    private mutating func escape() throws(QueryError) -> Unicode.Scalar {
        let start = index
        index += 1
        guard index < scalars.count else { throw QueryError(position: start, reason: .unterminatedString) }
        let c = scalars[index]
        index += 1
        switch c {
        case "'", "\"", "\\", "/": return c
        case "b": return "\u{8}"
        case "f": return "\u{C}"
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
            throw QueryError(position: start, reason: .invalidEscape(text(from: start)))
        default:
            throw QueryError(position: start, reason: .invalidEscape(text(from: start)))
        }
    }

    private mutating func hex4(escapeStart: Int) throws(QueryError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < scalars.count, let digit = hexDigit(scalars[index]) else {
                throw QueryError(position: escapeStart, reason: .invalidEscape(text(from: escapeStart)))
            }
            value = value * 16 + digit
            index += 1
        }
        return value
    }

    private func hexDigit(_ s: Unicode.Scalar) -> UInt32? {
        switch s {
        case "0"..."9": s.value - 0x30
        case "a"..."f": s.value - 0x61 + 10
        case "A"..."F": s.value - 0x41 + 10
        default: nil
        }
    }

    /// A decimal number (`-12`, `3.5`, `1e-7`) or a hexadecimal one (`0x1F`).
    private mutating func number() throws(QueryError) -> Double {
        let start = index
        let negative = scalars[index] == "-"
        if negative { index += 1 }
        let value: Double?
        if matches("0x") || matches("0X"), index + 2 < scalars.count, hexDigit(scalars[index + 2]) != nil {
            index += 2
            var hex = 0.0
            while index < scalars.count, let digit = hexDigit(scalars[index]) {
                hex = hex * 16 + Double(digit)
                index += 1
            }
            value = negative ? -hex : hex
        } else {
            skipDigits()
            if index < scalars.count, scalars[index] == ".", isDigit(at: index + 1) {
                index += 1
                skipDigits()
            }
            if index < scalars.count, scalars[index] == "e" || scalars[index] == "E" {
                var i = index + 1
                if i < scalars.count, scalars[i] == "+" || scalars[i] == "-" { i += 1 }
                if isDigit(at: i) {
                    index = i
                    skipDigits()
                }
            }
            value = Double(text(from: start))
        }
        // `12abc` is a typo, not the number 12 followed by a name.
        if index < scalars.count, Self.isIdentifierPart(scalars[index]) {
            while index < scalars.count, Self.isIdentifierPart(scalars[index]) { index += 1 }
            throw QueryError(position: start, reason: .invalidNumber(text(from: start)))
        }
        guard let value, value.isFinite else { throw QueryError(position: start, reason: .invalidNumber(text(from: start))) }
        return value
    }

    private mutating func skipDigits() {
        while isDigit(at: index) { index += 1 }
    }
}
