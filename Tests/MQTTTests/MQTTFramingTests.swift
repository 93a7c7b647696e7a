import MQTT
import NIOCore
import Testing

/// How the decoder frames a byte stream: incomplete input, several packets in one read, and the
/// variable-length "remaining length" field (MQTT 3.1.1 §2.2.3).
@Suite("MQTT framing")
struct MQTTFramingTests {
    @Test("every strict prefix of a packet decodes as nil and consumes nothing", arguments: Sample.all)
    func everyPrefixNeedsMore(_ sample: Sample) throws {
        let bytes = Wire.encode(sample.packet)
        for length in 0..<bytes.count {
            var buffer = ByteBuffer(bytes: bytes[..<length])
            let readerIndex = buffer.readerIndex
            let packet = try MQTTDecoder.decode(from: &buffer)
            #expect(packet == nil, "prefix of \(length) of \(bytes.count) bytes")
            #expect(buffer.readerIndex == readerIndex, "prefix of \(length) bytes consumed something")
        }
    }

    @Test("two packets in one buffer decode one after the other")
    func twoPacketsInOneBuffer() throws {
        let first = MQTTPacket.publish(Publish(topic: "devices/d/messages/events/", payload: ByteBuffer("one"), qos: .atLeastOnce, packetID: 1))
        let second = MQTTPacket.pingreq
        var buffer = ByteBuffer(bytes: Wire.encode(first) + Wire.encode(second))
        #expect(try MQTTDecoder.decode(from: &buffer) == first)
        #expect(buffer.readableBytes == 2)
        #expect(try MQTTDecoder.decode(from: &buffer) == second)
        #expect(buffer.readableBytes == 0)
        #expect(try MQTTDecoder.decode(from: &buffer) == nil)
    }

    @Test("a complete packet followed by a partial one: the first decodes, the rest waits")
    func completeThenPartial() throws {
        let tail = Wire.encode(.subscribe(Subscribe(packetID: 5, requests: [.init(topicFilter: "$iothub/twin/res/#", qos: .atMostOnce)])))
        var buffer = ByteBuffer(bytes: Wire.encode(.puback(packetID: 4)) + tail.prefix(7))
        #expect(try MQTTDecoder.decode(from: &buffer) == .puback(packetID: 4))
        #expect(try MQTTDecoder.decode(from: &buffer) == nil)
        #expect(buffer.readableBytes == 7)
        buffer.writeBytes(tail.dropFirst(7))
        #expect(try MQTTDecoder.decode(from: &buffer) == .subscribe(Subscribe(packetID: 5, requests: [.init(topicFilter: "$iothub/twin/res/#", qos: .atMostOnce)])))
    }

    /// A QoS 0 PUBLISH on topic "t" has 3 bytes of variable header, so its payload sets the
    /// remaining length to anything from 3 up.
    static func publish(remainingLength: Int) -> MQTTPacket {
        .publish(Publish(topic: "t", payload: ByteBuffer(bytes: [UInt8](repeating: 0x5A, count: remainingLength - 3))))
    }

    @Test("remaining length at the boundaries of its 1, 2, 3 and 4 byte forms", arguments: [
        (127, [0x7F] as [UInt8]),
        (128, [0x80, 0x01]),
        (16_383, [0xFF, 0x7F]),
        (16_384, [0x80, 0x80, 0x01]),
        (2_097_151, [0xFF, 0xFF, 0x7F]),
        (2_097_152, [0x80, 0x80, 0x80, 0x01]),
    ])
    func remainingLengthBoundaries(length: Int, encoded: [UInt8]) throws {
        let packet = Self.publish(remainingLength: length)
        let bytes = Wire.encode(packet)
        #expect(Array(bytes[1...encoded.count]) == encoded)
        #expect(bytes.count == 1 + encoded.count + length)
        let (decoded, consumed) = try Wire.decode(bytes, maxPacketSize: .max)
        #expect(decoded == packet)
        #expect(consumed == bytes.count)
        // One byte short: still incomplete, nothing consumed.
        let (partial, none) = try Wire.decode(Array(bytes.dropLast()), maxPacketSize: .max)
        #expect(partial == nil)
        #expect(none == 0)
    }

    @Test("the largest remaining length (268,435,455, four bytes) is read from the header")
    func largestRemainingLength() throws {
        let header: [UInt8] = [0x30, 0xFF, 0xFF, 0xFF, 0x7F]
        // Without a limit the decoder waits for the body …
        #expect(try Wire.decode(header, maxPacketSize: .max).0 == nil)
        // … with the default limit it refuses at once.
        #expect(throws: MQTTDecodeError.packetTooLarge(size: 1 + 4 + 268_435_455, limit: MQTTDecoder.defaultMaxPacketSize)) {
            try Wire.decode(header)
        }
    }

    @Test("a packet of exactly maxPacketSize bytes is accepted, one byte more is not")
    func limitIsInclusive() throws {
        let packet = Self.publish(remainingLength: 100)
        let bytes = Wire.encode(packet)
        #expect(try Wire.decode(bytes, maxPacketSize: bytes.count).0 == packet)
        #expect(throws: MQTTDecodeError.packetTooLarge(size: bytes.count, limit: bytes.count - 1)) {
            try Wire.decode(bytes, maxPacketSize: bytes.count - 1)
        }
    }

    @Test("IoT Hub's 256 KiB message fits under the default limit")
    func defaultLimitFitsTheHubsMessageSize() throws {
        let topic = "devices/dev1/messages/events/%24.ct=application%2Fjson"
        let packet = MQTTPacket.publish(Publish(topic: topic, payload: ByteBuffer(bytes: [UInt8](repeating: 1, count: 256 * 1024)),
                                                qos: .atLeastOnce, packetID: 1))
        #expect(try Wire.decode(Wire.encode(packet)).0 == packet)
    }

    @Test("a remaining length written in more bytes than needed is still read")
    func nonMinimalRemainingLength() throws {
        // 0x80 0x00 is zero in two bytes. MQTT 3.1.1 does not forbid it (MQTT 5 does); the
        // decoder accepts it, and the re-encoding is the minimal form.
        let (packet, consumed) = try Wire.decode([0xC0, 0x80, 0x00])
        #expect(packet == .pingreq)
        #expect(consumed == 3)
    }
}
