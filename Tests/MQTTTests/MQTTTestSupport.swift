import MQTT
import NIOCore

/// Helpers shared by the MQTT codec tests.
enum Wire {
    static func encode(_ packet: MQTTPacket) -> [UInt8] {
        var out = ByteBuffer()
        MQTTEncoder.encode(packet, into: &out)
        return Array(out.readableBytesView)
    }

    /// Decodes one packet from `bytes`; also returns how many bytes were consumed.
    static func decode(_ bytes: [UInt8], maxPacketSize: Int = MQTTDecoder.defaultMaxPacketSize) throws -> (MQTTPacket?, consumed: Int) {
        var buffer = ByteBuffer(bytes: bytes)
        let packet = try MQTTDecoder.decode(from: &buffer, maxPacketSize: maxPacketSize)
        return (packet, bytes.count - buffer.readableBytes)
    }

    /// Decodes every packet in `bytes`; nil-terminated, throwing on the first error.
    static func decodeAll(_ bytes: [UInt8]) throws -> (packets: [MQTTPacket], leftover: Int) {
        var buffer = ByteBuffer(bytes: bytes)
        var packets: [MQTTPacket] = []
        while let packet = try MQTTDecoder.decode(from: &buffer) { packets.append(packet) }
        return (packets, buffer.readableBytes)
    }

    /// A fixed header, its remaining length, then `body`.
    static func frame(_ header: UInt8, _ body: [UInt8]) -> [UInt8] {
        [header] + remainingLength(body.count) + body
    }

    static func remainingLength(_ n: Int) -> [UInt8] {
        var n = n
        var out: [UInt8] = []
        repeat {
            var byte = UInt8(n % 128)
            n /= 128
            if n > 0 { byte |= 0x80 }
            out.append(byte)
        } while n > 0
        return out
    }

    /// An MQTT UTF-8 string or binary field: two-byte length, then the bytes.
    static func field(_ s: String) -> [UInt8] { field(Array(s.utf8)) }
    static func field(_ b: [UInt8]) -> [UInt8] { [UInt8(b.count >> 8), UInt8(b.count & 0xFF)] + b }
}

extension ByteBuffer {
    init(_ string: String) { self.init(string: string) }
}

/// SplitMix64 (Steele, Lea and Flood 2014): tiny, fast, and the same sequence on every platform
/// and Swift version, so a failing seed reproduces anywhere. The helpers below avoid the
/// standard library's `random(in:using:)`, whose mapping of bits to ranges is not promised to
/// stay the same across releases.
struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform enough for tests in `range` (modulo bias is irrelevant here).
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    mutating func bool() -> Bool { next() & 1 == 1 }

    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }

    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }

    mutating func element<T>(_ array: [T]) -> T { array[int(0...array.count - 1)] }
}
