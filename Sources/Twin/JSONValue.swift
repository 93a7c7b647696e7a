import Foundation

/// A JSON document as twins, method payloads and queries see it. Numbers are kept as `Double`
/// (what JSON promises) but integral values are written back without a fraction, so a version
/// or a count round-trips as an integer.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// The value at a dotted path of object keys (`properties.reported.temp`), if every step exists.
    public func value(at path: [String]) -> JSONValue? {
        var current = self
        for key in path {
            guard case .object(let o) = current, let next = o[key] else { return nil }
            current = next
        }
        return current
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var numberValue: Double? {
        if case .number(let n) = self { return n }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// Object nesting depth: a scalar is 0, `{}` is 1, `{"a":{}}` is 2. Arrays count as a level too.
    public var depth: Int {
        switch self {
        case .object(let o): return 1 + (o.values.map(\.depth).max() ?? 0)
        case .array(let a): return 1 + (a.map(\.depth).max() ?? 0)
        default: return 0
        }
    }
}

// MARK: parsing and writing

extension JSONValue {
    public enum ParseError: Error, CustomStringConvertible, Equatable {
        case invalid(String)
        public var description: String {
            switch self { case .invalid(let why): "not valid JSON: \(why)" }
        }
    }

    /// Parses UTF-8 JSON text. Top-level scalars are allowed (a method payload may be `42`).
    public init(parsing data: Data) throws {
        do {
            self = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw ParseError.invalid(Self.reason(error))
        }
    }

    public init(parsing text: String) throws { try self.init(parsing: Data(text.utf8)) }

    /// Compact JSON text with sorted keys, so equal values serialise identically.
    public var jsonText: String {
        var out = ""
        write(to: &out)
        return out
    }

    public var jsonData: Data { Data(jsonText.utf8) }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += Self.format(n)
        case .string(let s): Self.appendQuoted(s, to: &out)
        case .array(let a):
            out += "["
            for (i, v) in a.enumerated() {
                if i > 0 { out += "," }
                v.write(to: &out)
            }
            out += "]"
        case .object(let o):
            out += "{"
            for (i, key) in o.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                Self.appendQuoted(key, to: &out)
                out += ":"
                o[key]!.write(to: &out)
            }
            out += "}"
        }
    }

    /// A number as JSON writes it: integral values without a fraction.
    public static func format(_ n: Double) -> String {
        guard n.isFinite else { return "null" }
        if n == n.rounded(), abs(n) < 9_007_199_254_740_992 { return String(Int64(n)) }
        return "\(n)"
    }

    /// `s` as a JSON string literal appended to `out`.
    public static func appendQuoted(_ s: String, to out: inout String) {
        var s = s
        s.withUTF8 { bytes in
            writeQuoted(utf8: UnsafeRawBufferPointer(bytes)) { out += String(decoding: $0, as: UTF8.self) }
        }
    }

    /// Valid UTF-8 as a JSON string literal, handed to `emit` in pieces: the quotes, runs that
    /// need no escaping (a usual string is one run), and escapes. The one escaping rule for the
    /// JSON written here, whether into a String or straight into a socket buffer.
    @inlinable
    public static func writeQuoted(utf8 bytes: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) -> Void) {
        var quote = UInt8(ascii: "\"")
        withUnsafeBytes(of: &quote) { emit($0) }
        var start = 0
        for i in 0..<bytes.count {
            let b = bytes[i]
            guard b < 0x20 || b == 0x22 || b == 0x5C else { continue }
            if start < i { emit(UnsafeRawBufferPointer(rebasing: bytes[start..<i])) }
            start = i + 1
            // `\"`, `\\`, `\n`, `\r`, `\t`, else `\u00XX` in lower-case hex.
            let short: UInt8? = switch b {
            case 0x22: 0x22
            case 0x5C: 0x5C
            case 0x0A: UInt8(ascii: "n")
            case 0x0D: UInt8(ascii: "r")
            case 0x09: UInt8(ascii: "t")
            default: nil
            }
            func hex(_ n: UInt8) -> UInt8 { n < 10 ? 0x30 + n : 0x57 + n }
            var escape: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0x5C, short ?? UInt8(ascii: "u"), 0x30, 0x30, hex(b >> 4), hex(b & 0xF))
            withUnsafeBytes(of: &escape) { emit(short == nil ? $0 : UnsafeRawBufferPointer(rebasing: $0[0..<2])) }
        }
        if start < bytes.count { emit(UnsafeRawBufferPointer(rebasing: bytes[start...])) }
        withUnsafeBytes(of: &quote) { emit($0) }
    }

    private static func reason(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let c):
            let underlying = (c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return underlying ?? c.debugDescription
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return c.debugDescription
        default:
            return "\(error)"
        }
    }
}

extension JSONValue: Codable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n):
            if n == n.rounded(), abs(n) < 9_007_199_254_740_992 { try c.encode(Int64(n)) } else { try c.encode(n) }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
