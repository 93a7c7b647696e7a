import NIOCore

/// The bench message: `t={monotonic ns};d={device index};s={sequence};` padded with `x` to the
/// chosen size. ASCII on purpose: Outpost's events endpoint returns a UTF-8 body as a JSON
/// string, so the reader finds the same fields in an MQTT payload and in an events line.
enum Payload {
    struct Fields: Equatable {
        var sentNanos: UInt64
        var device: Int
        var sequence: Int
    }

    static func write(_ f: Fields, size: Int, into buffer: inout ByteBuffer) {
        let start = buffer.writerIndex
        buffer.writeString("t=\(f.sentNanos);d=\(f.device);s=\(f.sequence);")
        let pad = size - (buffer.writerIndex - start)
        if pad > 0 { buffer.writeRepeatingByte(UInt8(ascii: "x"), count: pad) }
    }

    /// Parses the fields at the front of `bytes` (an MQTT payload, or the text after `"body":"`).
    static func parse<C: Collection>(_ bytes: C) -> Fields? where C.Element == UInt8 {
        var i = bytes.startIndex
        func number(after key: UInt8) -> UInt64? {
            guard i != bytes.endIndex, bytes[i] == key else { return nil }
            i = bytes.index(after: i)
            guard i != bytes.endIndex, bytes[i] == UInt8(ascii: "=") else { return nil }
            i = bytes.index(after: i)
            var value: UInt64 = 0, digits = 0
            while i != bytes.endIndex, bytes[i] >= 0x30, bytes[i] <= 0x39, digits < 20 {
                value = value &* 10 &+ UInt64(bytes[i] - 0x30)
                digits += 1
                i = bytes.index(after: i)
            }
            guard digits > 0, i != bytes.endIndex, bytes[i] == UInt8(ascii: ";") else { return nil }
            i = bytes.index(after: i)
            return value
        }
        guard let t = number(after: UInt8(ascii: "t")), let d = number(after: UInt8(ascii: "d")),
              let s = number(after: UInt8(ascii: "s")) else { return nil }
        return Fields(sentNanos: t, device: Int(d), sequence: Int(s))
    }

    private static let bodyKey = Array(#""body":""#.utf8)

    /// The fields of one NDJSON event line of Outpost's events endpoint.
    static func parse(eventLine line: ArraySlice<UInt8>) -> Fields? {
        guard let at = firstRange(of: bodyKey, in: line) else { return nil }
        return parse(line[at...])
    }

    private static func firstRange(of needle: [UInt8], in hay: ArraySlice<UInt8>) -> Int? {
        guard hay.count >= needle.count else { return nil }
        var i = hay.startIndex
        let last = hay.endIndex - needle.count
        while i <= last {
            if hay[i] == needle[0] {
                var j = 1
                while j < needle.count, hay[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i + needle.count }
            }
            i += 1
        }
        return nil
    }
}

/// Monotonic nanoseconds, shared by the publishers and the reader of one process.
enum Clock {
    static var now: UInt64 { NIODeadline.now().uptimeNanoseconds }
}
