/// Kusto's `dynamic`: a JSON value, made by `parse_json()` (for example of `properties_s`) and by
/// `make_set()`/`make_list()`. Object keys print sorted.
public indirect enum LogDynamic: Hashable, Sendable {
    case null
    case bool(Bool)
    case long(Int64)
    case real(Double)
    case string(String)
    case array([LogDynamic])
    case object([String: LogDynamic])

    /// A plain value as a dynamic one. JSON has no NaN or infinity, so those become null;
    /// datetimes and timespans become their text.
    init(_ value: LogValue) {
        switch value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .long(let n): self = .long(n)
        case .real(let x): self = x.isFinite ? .real(x) : .null
        case .string(let s): self = .string(s)
        case .datetime, .timespan: self = .string(value.text)
        case .dynamic(let d): self = d
        }
    }

    public var jsonText: String {
        switch self {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .long(let n): String(n)
        case .real(let x): x.isFinite ? LogValue.realText(x) : "null"
        case .string(let s): JSONText.quoted(s)
        case .array(let items): "[" + items.map(\.jsonText).joined(separator: ",") + "]"
        case .object(let members):
            "{" + members.keys.sorted().map { JSONText.quoted($0) + ":" + members[$0]!.jsonText }.joined(separator: ",") + "}"
        }
    }

    /// `d.key` / `d["key"]`: null when `d` is not an object or has no such key.
    func member(_ key: String) -> LogDynamic {
        if case .object(let members) = self { return members[key] ?? .null }
        return .null
    }

    /// `d[i]`: null out of range; a negative index counts from the end.
    func element(_ index: Int64) -> LogDynamic {
        guard case .array(let items) = self else { return .null }
        let i = index < 0 ? Int64(items.count) + index : index
        return i >= 0 && i < Int64(items.count) ? items[Int(i)] : .null
    }

    /// Nesting deeper than this is not JSON that `parse_json` accepts (the parser recurses).
    static let maxDepth = 64

    /// Parses JSON text; nil when it is not JSON (then `parse_json` keeps the string).
    static func parse(_ text: String) -> LogDynamic? {
        var parser = JSONParser(scalars: Array(text.unicodeScalars))
        guard let value = parser.value(depth: 0) else { return nil }
        parser.skipSpace()
        return parser.index == parser.scalars.count ? value : nil
    }
}

/// A small recursive-descent JSON reader over Unicode scalars, depth-limited.
private struct JSONParser {
    let scalars: [Unicode.Scalar]
    var index = 0

    mutating func skipSpace() {
        while index < scalars.count, [" ", "\n", "\r", "\t"].contains(scalars[index]) { index += 1 }
    }

    mutating func value(depth: Int) -> LogDynamic? {
        guard depth <= LogDynamic.maxDepth else { return nil }
        skipSpace()
        guard index < scalars.count else { return nil }
        switch scalars[index] {
        case "{": return object(depth: depth)
        case "[": return array(depth: depth)
        case "\"": return string().map(LogDynamic.string)
        case "t": return word("true", .bool(true))
        case "f": return word("false", .bool(false))
        case "n": return word("null", .null)
        default: return number()
        }
    }

    private mutating func object(depth: Int) -> LogDynamic? {
        index += 1
        var members: [String: LogDynamic] = [:]
        skipSpace()
        if index < scalars.count, scalars[index] == "}" { index += 1; return .object(members) }
        while true {
            skipSpace()
            guard index < scalars.count, scalars[index] == "\"", let key = string() else { return nil }
            skipSpace()
            guard index < scalars.count, scalars[index] == ":" else { return nil }
            index += 1
            guard let member = value(depth: depth + 1) else { return nil }
            members[key] = member
            skipSpace()
            guard index < scalars.count else { return nil }
            index += 1
            if scalars[index - 1] == "}" { return .object(members) }
            if scalars[index - 1] != "," { return nil }
        }
    }

    private mutating func array(depth: Int) -> LogDynamic? {
        index += 1
        var items: [LogDynamic] = []
        skipSpace()
        if index < scalars.count, scalars[index] == "]" { index += 1; return .array(items) }
        while true {
            guard let item = value(depth: depth + 1) else { return nil }
            items.append(item)
            skipSpace()
            guard index < scalars.count else { return nil }
            index += 1
            if scalars[index - 1] == "]" { return .array(items) }
            if scalars[index - 1] != "," { return nil }
        }
    }

    private mutating func string() -> String? {
        index += 1
        var s = String.UnicodeScalarView()
        while index < scalars.count {
            let c = scalars[index]
            index += 1
            switch c {
            case "\"": return String(s)
            case "\\":
                guard index < scalars.count else { return nil }
                let e = scalars[index]
                index += 1
                switch e {
                case "\"", "\\", "/": s.append(e)
                case "b": s.append("\u{8}")
                case "f": s.append("\u{C}")
                case "n": s.append("\n")
                case "r": s.append("\r")
                case "t": s.append("\t")
                case "u":
                    guard let scalar = unicodeEscape() else { return nil }
                    s.append(scalar)
                default: return nil
                }
            default:
                if c.value < 0x20 { return nil }
                s.append(c)
            }
        }
        return nil
    }

    /// After `\u`: four hex digits, or a surrogate pair written as two escapes.
    private mutating func unicodeEscape() -> Unicode.Scalar? {
        guard let high = hex4() else { return nil }
        if !(0xD800...0xDFFF).contains(high) { return Unicode.Scalar(high) }
        guard high <= 0xDBFF, index + 1 < scalars.count, scalars[index] == "\\", scalars[index + 1] == "u" else { return nil }
        index += 2
        guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return nil }
        return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    }

    private mutating func hex4() -> UInt32? {
        guard index + 4 <= scalars.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = decimal(scalars[index]) ?? hexLetter(scalars[index]) else { return nil }
            value = value * 16 + digit
            index += 1
        }
        return value
    }

    private func decimal(_ s: Unicode.Scalar) -> UInt32? { ("0"..."9").contains(s) ? s.value - 0x30 : nil }

    private func hexLetter(_ s: Unicode.Scalar) -> UInt32? {
        switch s {
        case "a"..."f": s.value - 0x61 + 10
        case "A"..."F": s.value - 0x41 + 10
        default: nil
        }
    }

    private mutating func word(_ w: String, _ value: LogDynamic) -> LogDynamic? {
        for expected in w.unicodeScalars {
            guard index < scalars.count, scalars[index] == expected else { return nil }
            index += 1
        }
        return value
    }

    /// JSON's number grammar; integers that fit are longs, everything else reals.
    private mutating func number() -> LogDynamic? {
        let start = index
        var integral = true
        if index < scalars.count, scalars[index] == "-" { index += 1 }
        guard digits() else { return nil }
        if index < scalars.count, scalars[index] == "." {
            index += 1
            integral = false
            guard digits() else { return nil }
        }
        if index < scalars.count, scalars[index] == "e" || scalars[index] == "E" {
            index += 1
            integral = false
            if index < scalars.count, scalars[index] == "+" || scalars[index] == "-" { index += 1 }
            guard digits() else { return nil }
        }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: scalars[start..<index])
        let s = String(text)
        if integral, let n = Int64(s) { return .long(n) }
        guard let x = Double(s), x.isFinite else { return nil }
        return .real(x)
    }

    private mutating func digits() -> Bool {
        let start = index
        while index < scalars.count, decimal(scalars[index]) != nil { index += 1 }
        return index > start
    }
}
