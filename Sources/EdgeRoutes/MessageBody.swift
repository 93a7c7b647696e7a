/// A message body as `$body` queries read it: JSON only when the message says so. As in IoT Hub,
/// `$contentType` must be `application/json` and `$contentEncoding` UTF-8, UTF-16 or UTF-32
/// (any case); otherwise, or when the body is not a JSON object, every `$body` path is undefined.
/// See https://learn.microsoft.com/azure/iot-hub/iot-hub-devguide-routing-query-syntax#query-based-on-message-body
enum MessageBody {
    /// The body's JSON object, or nil when it has none.
    static func json(of message: RoutableMessage) -> JSONNode? {
        guard message.contentType?.lowercased() == "application/json",
              let encoding = message.contentEncoding?.lowercased(),
              let text = decode(message.body, encoding: encoding),
              let node = try? JSONNode.parse(text), case .object = node else { return nil }
        return node
    }

    /// The body as text. UTF-16 and UTF-32 are little-endian unless a byte order mark says
    /// otherwise (.NET's "utf-16" and "utf-32"); a mark is dropped; invalid bytes become U+FFFD.
    static func decode(_ bytes: [UInt8], encoding: String) -> String? {
        switch encoding {
        case "utf-8", "utf8":
            let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
            return String(decoding: bytes[start...], as: UTF8.self)
        case "utf-16", "utf16":
            var bigEndian = false
            var start = 0
            if bytes.starts(with: [0xFF, 0xFE]) { start = 2 } else if bytes.starts(with: [0xFE, 0xFF]) { (start, bigEndian) = (2, true) }
            let units = stride(from: start, to: bytes.count - 1, by: 2).map { i -> UInt16 in
                let (a, b) = (UInt16(bytes[i]), UInt16(bytes[i + 1]))
                return bigEndian ? a << 8 | b : b << 8 | a
            }
            return String(decoding: units, as: UTF16.self)
        case "utf-32", "utf32":
            var bigEndian = false
            var start = 0
            if bytes.starts(with: [0xFF, 0xFE, 0, 0]) { start = 4 } else if bytes.starts(with: [0, 0, 0xFE, 0xFF]) { (start, bigEndian) = (4, true) }
            var text = String.UnicodeScalarView()
            for i in stride(from: start, to: bytes.count - 3, by: 4) {
                let b = bytes[i..<(i + 4)].map(UInt32.init)
                let value = bigEndian ? b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3] : b[3] << 24 | b[2] << 16 | b[1] << 8 | b[0]
                text.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            }
            return String(text)
        default:
            return nil
        }
    }

    /// The scalar at `path`; objects and arrays are undefined, as in edgeHub. A missing path is
    /// undefined too (edgeHub's Json.NET lookup gives null there), so `IS_DEFINED($body.x)`
    /// tests for a field, as the IoT Hub documentation uses it.
    static func value(at path: BodyPath, in root: JSONNode) -> RouteValue {
        var node = root
        for component in path.components {
            switch (component, node) {
            case (.key(let key), .object(let members)):
                guard let next = members[key] else { return .undefined }
                node = next
            case (.index(let i), .array(let elements)):
                guard elements.indices.contains(i) else { return .undefined }
                node = elements[i]
            default:
                return .undefined
            }
        }
        switch node {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .number(let x): return .number(x)
        case .string(let s): return .string(s)
        case .array, .object: return .undefined
        }
    }
}
