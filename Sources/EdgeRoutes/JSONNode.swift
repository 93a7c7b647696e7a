/// A JSON document, parsed strictly (RFC 8259) with a nesting limit: message bodies for `$body`
/// queries and the twin's `routes` object. The package has no dependencies, and a parser of
/// its own bounds depth and reports where the text went wrong.
indirect enum JSONNode: Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONNode])
    /// A repeated key keeps its last value, as Json.NET does.
    case object([String: JSONNode])

    static let maxDepth = 128

    struct ParseError: Error {
        var position: Int
        var message: String
    }

    /// The whole text as one value, spaces around it allowed; `position` counts Unicode scalars.
    static func parse(_ text: String) throws(ParseError) -> JSONNode {
        var parser = Parser(Array(text.unicodeScalars))
        return try parser.document()
    }

    private struct Parser {
        let scalars: [Unicode.Scalar]
        var index = 0
        var depth = 0

        init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

        mutating func document() throws(ParseError) -> JSONNode {
            let value = try self.value()
            skipSpace()
            guard index == scalars.count else { throw fail("unexpected text after the JSON value") }
            return value
        }

        private mutating func value() throws(ParseError) -> JSONNode {
            skipSpace()
            guard index < scalars.count else { throw fail("expected a JSON value, found end of text") }
            switch scalars[index] {
            case "{": return try container(close: "}")
            case "[": return try container(close: "]")
            case "\"": return .string(try string())
            case "t": return try word("true", .bool(true))
            case "f": return try word("false", .bool(false))
            case "n": return try word("null", .null)
            case "-", "0"..."9": return try number()
            default: throw fail("expected a JSON value, found '\(String(scalars[index]))'")
            }
        }

        private mutating func container(close: Unicode.Scalar) throws(ParseError) -> JSONNode {
            depth += 1
            guard depth <= JSONNode.maxDepth else { throw fail("JSON nested more than \(JSONNode.maxDepth) levels deep") }
            defer { depth -= 1 }
            index += 1
            var members: [String: JSONNode] = [:]
            var elements: [JSONNode] = []
            skipSpace()
            if index < scalars.count, scalars[index] == close {
                index += 1
                return close == "}" ? .object(members) : .array(elements)
            }
            while true {
                if close == "}" {
                    skipSpace()
                    guard index < scalars.count, scalars[index] == "\"" else { throw fail("expected a quoted key") }
                    let key = try string()
                    skipSpace()
                    guard index < scalars.count, scalars[index] == ":" else { throw fail("expected ':' after a key") }
                    index += 1
                    members[key] = try value()
                } else {
                    elements.append(try value())
                }
                skipSpace()
                guard index < scalars.count else { throw fail("expected ',' or '\(String(close))', found end of text") }
                if scalars[index] == "," {
                    index += 1
                } else if scalars[index] == close {
                    index += 1
                    return close == "}" ? .object(members) : .array(elements)
                } else {
                    throw fail("expected ',' or '\(String(close))'")
                }
            }
        }

        private mutating func string() throws(ParseError) -> String {
            let start = index
            index += 1
            var value = String.UnicodeScalarView()
            while index < scalars.count {
                let c = scalars[index]
                index += 1
                switch c {
                case "\"": return String(value)
                case "\\": value.append(try escape())
                case _ where c.value < 0x20: throw ParseError(position: index - 1, message: "control character in a string")
                default: value.append(c)
                }
            }
            throw ParseError(position: start, message: "unterminated string")
        }

        private mutating func escape() throws(ParseError) -> Unicode.Scalar {
            guard index < scalars.count else { throw fail("unterminated escape") }
            let c = scalars[index]
            index += 1
            switch c {
            case "\"", "\\", "/": return c
            case "b": return "\u{08}"
            case "f": return "\u{0C}"
            case "n": return "\n"
            case "r": return "\r"
            case "t": return "\t"
            case "u":
                let high = try hex4()
                if !(0xD800...0xDFFF).contains(high) { return Unicode.Scalar(high) ?? "\u{FFFD}" }
                if high <= 0xDBFF, index + 1 < scalars.count, scalars[index] == "\\", scalars[index + 1] == "u" {
                    let save = index
                    index += 2
                    let low = try hex4()
                    if (0xDC00...0xDFFF).contains(low) {
                        return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)) ?? "\u{FFFD}"
                    }
                    index = save
                }
                return "\u{FFFD}"  // a lone surrogate, which a Swift string cannot hold
            default:
                index -= 1
                throw fail("invalid escape '\\\(String(c))'")
            }
        }

        private mutating func hex4() throws(ParseError) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard index < scalars.count, scalars[index].isASCII, let digit = UInt32(String(scalars[index]), radix: 16) else {
                    throw fail("expected 4 hex digits after \\u")
                }
                value = value * 16 + digit
                index += 1
            }
            return value
        }

        private mutating func number() throws(ParseError) -> JSONNode {
            let start = index
            if scalars[index] == "-" { index += 1 }
            guard index < scalars.count, isDigit(scalars[index]) else { throw fail("expected a digit") }
            if scalars[index] == "0" { index += 1 } else { skipDigits() }
            if index < scalars.count, scalars[index] == "." {
                index += 1
                guard index < scalars.count, isDigit(scalars[index]) else { throw fail("expected a digit after '.'") }
                skipDigits()
            }
            if index < scalars.count, scalars[index] == "e" || scalars[index] == "E" {
                index += 1
                if index < scalars.count, scalars[index] == "+" || scalars[index] == "-" { index += 1 }
                guard index < scalars.count, isDigit(scalars[index]) else { throw fail("expected a digit in the exponent") }
                skipDigits()
            }
            var text = String.UnicodeScalarView()
            text.append(contentsOf: scalars[start..<index])
            guard let value = Double(String(text)) else { throw ParseError(position: start, message: "invalid number") }
            return .number(value)
        }

        private mutating func word(_ word: String, _ node: JSONNode) throws(ParseError) -> JSONNode {
            for s in word.unicodeScalars {
                guard index < scalars.count, scalars[index] == s else { throw fail("expected '\(word)'") }
                index += 1
            }
            return node
        }

        private func isDigit(_ s: Unicode.Scalar) -> Bool { ("0"..."9").contains(s) }

        private mutating func skipDigits() {
            while index < scalars.count, isDigit(scalars[index]) { index += 1 }
        }

        private mutating func skipSpace() {
            while index < scalars.count, [" ", "\t", "\n", "\r"].contains(scalars[index]) { index += 1 }
        }

        private func fail(_ message: String) -> ParseError { ParseError(position: index, message: message) }
    }
}
