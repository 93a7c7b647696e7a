import MQTT
import NIOCore
import Testing

/// Every `MQTTDecodeError` case, reached with a byte sequence that breaks exactly one rule.
struct BadInput: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    var error: MQTTDecodeError
    var testDescription: String { name }

    static let mqtt = Wire.field("MQTT")
    /// CONNECT with the given flags byte and payload.
    static func connect(flags: UInt8, payload: [UInt8]) -> [UInt8] {
        Wire.frame(0x10, mqtt + [4, flags, 0x00, 0x3C] + payload)
    }

    static let all: [BadInput] = [
        // Packet type and fixed-header flags (§2.2.1, §2.2.2).
        BadInput(name: "reserved packet type 0", bytes: [0x00, 0x00], error: .reservedPacketType(0)),
        BadInput(name: "reserved packet type 15", bytes: [0xF0, 0x00], error: .reservedPacketType(15)),
        BadInput(name: "PINGREQ with flags 1", bytes: [0xC1, 0x00], error: .invalidFixedHeaderFlags(packetType: "PINGREQ", flags: 1)),
        BadInput(name: "CONNECT with flags 0xF", bytes: [0x1F, 0x00], error: .invalidFixedHeaderFlags(packetType: "CONNECT", flags: 0x0F)),
        BadInput(name: "SUBSCRIBE with flags 0 (must be 2)", bytes: Wire.frame(0x80, [0x00, 0x01] + Wire.field("a") + [0]),
                 error: .invalidFixedHeaderFlags(packetType: "SUBSCRIBE", flags: 0)),
        BadInput(name: "UNSUBSCRIBE with flags 0 (must be 2)", bytes: Wire.frame(0xA0, [0x00, 0x01] + Wire.field("a")),
                 error: .invalidFixedHeaderFlags(packetType: "UNSUBSCRIBE", flags: 0)),
        BadInput(name: "PUBREL with flags 0 (must be 2)", bytes: [0x60, 0x02, 0x00, 0x01],
                 error: .invalidFixedHeaderFlags(packetType: "PUBREL", flags: 0)),
        BadInput(name: "PUBACK with flags 2", bytes: [0x42, 0x02, 0x00, 0x01], error: .invalidFixedHeaderFlags(packetType: "PUBACK", flags: 2)),
        BadInput(name: "PUBLISH QoS 0 with DUP", bytes: Wire.frame(0x38, Wire.field("t")),
                 error: .invalidFixedHeaderFlags(packetType: "PUBLISH", flags: 0x08)),
        // Remaining length (§2.2.3).
        BadInput(name: "remaining length of 5 bytes", bytes: [0x30, 0x80, 0x80, 0x80, 0x80, 0x01], error: .malformedRemainingLength),
        BadInput(name: "remaining length whose 4th byte continues, before the 5th arrives", bytes: [0x30, 0xFF, 0xFF, 0xFF, 0xFF],
                 error: .malformedRemainingLength),
        BadInput(name: "packet over the limit, detected from the header alone", bytes: [0x30, 0xFF, 0xFF, 0x7F],
                 error: .packetTooLarge(size: 1 + 3 + 2_097_151, limit: MQTTDecoder.defaultMaxPacketSize)),
        BadInput(name: "packet one byte over the default limit", bytes: [0x30] + Wire.remainingLength(MQTTDecoder.defaultMaxPacketSize - 3),
                 error: .packetTooLarge(size: MQTTDecoder.defaultMaxPacketSize + 1, limit: MQTTDecoder.defaultMaxPacketSize)),
        // Truncated fields and trailing bytes.
        BadInput(name: "CONNECT without protocol name", bytes: [0x10, 0x00], error: .truncated(packetType: "CONNECT", field: "protocol name")),
        BadInput(name: "CONNECT without keep-alive", bytes: Wire.frame(0x10, mqtt + [4, 2]),
                 error: .truncated(packetType: "CONNECT", field: "variable header")),
        BadInput(name: "CONNECT without client id", bytes: connect(flags: 0x02, payload: []),
                 error: .truncated(packetType: "CONNECT", field: "client identifier")),
        BadInput(name: "CONNECT with user flag, no user name", bytes: connect(flags: 0x82, payload: Wire.field("c")),
                 error: .truncated(packetType: "CONNECT", field: "user name")),
        BadInput(name: "CONNECT password shorter than its length", bytes: connect(flags: 0xC2, payload: Wire.field("c") + Wire.field("u") + [0x00, 0x05, 1, 2]),
                 error: .truncated(packetType: "CONNECT", field: "password")),
        BadInput(name: "CONNACK with one byte", bytes: [0x20, 0x01, 0x00], error: .truncated(packetType: "CONNACK", field: "return code")),
        BadInput(name: "PUBACK without packet id", bytes: [0x40, 0x01, 0x00], error: .truncated(packetType: "PUBACK", field: "packet identifier")),
        BadInput(name: "PUBLISH topic length beyond the packet", bytes: [0x30, 0x03, 0x00, 0x09, 0x61],
                 error: .truncated(packetType: "PUBLISH", field: "topic name")),
        BadInput(name: "PUBLISH QoS 1 without packet id", bytes: Wire.frame(0x32, Wire.field("t") + [0x01]),
                 error: .truncated(packetType: "PUBLISH", field: "packet identifier")),
        BadInput(name: "SUBSCRIBE filter without QoS byte", bytes: Wire.frame(0x82, [0x00, 0x01] + Wire.field("a/b")),
                 error: .truncated(packetType: "SUBSCRIBE", field: "requested QoS")),
        BadInput(name: "PUBACK with a trailing byte", bytes: [0x40, 0x03, 0x00, 0x01, 0xFF], error: .trailingBytes(packetType: "PUBACK", count: 1)),
        BadInput(name: "PINGREQ with a body", bytes: [0xC0, 0x02, 0x00, 0x00], error: .trailingBytes(packetType: "PINGREQ", count: 2)),
        BadInput(name: "CONNECT with bytes after the password", bytes: connect(flags: 0xC2, payload: Wire.field("c") + Wire.field("u") + Wire.field("p") + [7]),
                 error: .trailingBytes(packetType: "CONNECT", count: 1)),
        BadInput(name: "CONNACK with a third byte", bytes: [0x20, 0x03, 0x00, 0x00, 0x00], error: .trailingBytes(packetType: "CONNACK", count: 1)),
        // UTF-8 (§1.5.3).
        BadInput(name: "PUBLISH topic 0xFF", bytes: Wire.frame(0x30, Wire.field([0xFF])), error: .invalidUTF8(field: "topic name")),
        BadInput(name: "PUBLISH topic with overlong NUL C0 80", bytes: Wire.frame(0x30, Wire.field([0x61, 0xC0, 0x80])),
                 error: .invalidUTF8(field: "topic name")),
        BadInput(name: "PUBLISH topic with a UTF-16 surrogate ED A0 80", bytes: Wire.frame(0x30, Wire.field([0xED, 0xA0, 0x80])),
                 error: .invalidUTF8(field: "topic name")),
        BadInput(name: "CONNECT client id cut inside a character", bytes: connect(flags: 0x02, payload: Wire.field([0x64, 0xC3])),
                 error: .invalidUTF8(field: "client identifier")),
        BadInput(name: "SUBSCRIBE filter 0xFE", bytes: Wire.frame(0x82, [0x00, 0x01] + Wire.field([0xFE]) + [0]),
                 error: .invalidUTF8(field: "topic filter")),
        // QoS.
        BadInput(name: "PUBLISH QoS 3", bytes: Wire.frame(0x36, Wire.field("t") + [0x00, 0x01]), error: .invalidQoS(3)),
        BadInput(name: "SUBSCRIBE requested QoS 3", bytes: Wire.frame(0x82, [0x00, 0x01] + Wire.field("t") + [3]), error: .invalidQoS(3)),
        BadInput(name: "SUBSCRIBE QoS byte with reserved bits", bytes: Wire.frame(0x82, [0x00, 0x01] + Wire.field("t") + [0x05]), error: .invalidQoS(5)),
        BadInput(name: "SUBACK return code 3", bytes: [0x90, 0x03, 0x00, 0x01, 0x03], error: .invalidQoS(3)),
        // CONNECT flags (§3.1.2.3).
        BadInput(name: "CONNECT reserved flag bit 0", bytes: connect(flags: 0x03, payload: Wire.field("c")), error: .invalidConnectFlags(0x03)),
        BadInput(name: "CONNECT will QoS 3", bytes: connect(flags: 0x1E, payload: Wire.field("c") + Wire.field("t") + Wire.field("m")),
                 error: .invalidConnectFlags(0x1E)),
        BadInput(name: "CONNECT will QoS without will flag", bytes: connect(flags: 0x0A, payload: Wire.field("c")), error: .invalidConnectFlags(0x0A)),
        BadInput(name: "CONNECT will retain without will flag", bytes: connect(flags: 0x22, payload: Wire.field("c")), error: .invalidConnectFlags(0x22)),
        BadInput(name: "CONNECT password without user name", bytes: connect(flags: 0x42, payload: Wire.field("c") + Wire.field("p")),
                 error: .invalidConnectFlags(0x42)),
        BadInput(name: "CONNACK reserved acknowledge flag", bytes: [0x20, 0x02, 0x02, 0x00], error: .invalidConnectFlags(0x02)),
        // Packet identifier 0 (§2.3.1).
        BadInput(name: "PUBLISH QoS 1 packet id 0", bytes: Wire.frame(0x32, Wire.field("t") + [0x00, 0x00]), error: .missingPacketID(packetType: "PUBLISH")),
        BadInput(name: "PUBACK packet id 0", bytes: [0x40, 0x02, 0x00, 0x00], error: .missingPacketID(packetType: "PUBACK")),
        BadInput(name: "SUBSCRIBE packet id 0", bytes: Wire.frame(0x82, [0x00, 0x00] + Wire.field("t") + [0]), error: .missingPacketID(packetType: "SUBSCRIBE")),
        BadInput(name: "UNSUBSCRIBE packet id 0", bytes: Wire.frame(0xA2, [0x00, 0x00] + Wire.field("t")), error: .missingPacketID(packetType: "UNSUBSCRIBE")),
        // Empty subscriptions (§3.8.3, §3.10.3).
        BadInput(name: "SUBSCRIBE without filters", bytes: [0x82, 0x02, 0x00, 0x01], error: .emptySubscription(packetType: "SUBSCRIBE")),
        BadInput(name: "UNSUBSCRIBE without filters", bytes: [0xA2, 0x02, 0x00, 0x01], error: .emptySubscription(packetType: "UNSUBSCRIBE")),
        // PUBLISH topic names (§4.7).
        BadInput(name: "PUBLISH topic with +", bytes: Wire.frame(0x30, Wire.field("devices/+/messages/events/")),
                 error: .invalidTopic("devices/+/messages/events/")),
        BadInput(name: "PUBLISH topic with #", bytes: Wire.frame(0x30, Wire.field("a/#")), error: .invalidTopic("a/#")),
        BadInput(name: "PUBLISH empty topic", bytes: Wire.frame(0x30, Wire.field("")), error: .invalidTopic("")),
        BadInput(name: "PUBLISH topic with NUL", bytes: Wire.frame(0x30, Wire.field([0x61, 0x00])), error: .invalidTopic("a\u{0}")),
    ]
}

@Suite("MQTT decode errors")
struct MQTTDecodeErrorTests {
    @Test("each broken rule throws its own error and leaves the buffer untouched", arguments: BadInput.all)
    func rejects(_ input: BadInput) {
        var buffer = ByteBuffer(bytes: input.bytes)
        #expect(throws: input.error) {
            try MQTTDecoder.decode(from: &buffer)
        }
        #expect(buffer.readableBytes == input.bytes.count)
    }

    @Test("every MQTTDecodeError case is reached by some input above")
    func everyCaseIsCovered() {
        // Exhaustive on purpose: a new error case fails to compile here until it gets an input.
        func caseName(_ e: MQTTDecodeError) -> String {
            switch e {
            case .reservedPacketType: "reservedPacketType"
            case .invalidFixedHeaderFlags: "invalidFixedHeaderFlags"
            case .malformedRemainingLength: "malformedRemainingLength"
            case .packetTooLarge: "packetTooLarge"
            case .truncated: "truncated"
            case .trailingBytes: "trailingBytes"
            case .invalidUTF8: "invalidUTF8"
            case .invalidQoS: "invalidQoS"
            case .invalidConnectFlags: "invalidConnectFlags"
            case .missingPacketID: "missingPacketID"
            case .emptySubscription: "emptySubscription"
            case .invalidTopic: "invalidTopic"
            }
        }
        let reached = Set(BadInput.all.map { caseName($0.error) })
        #expect(reached.count == 12, "unreached: \(reached)")
    }

    @Test("error descriptions say what was wrong")
    func descriptions() {
        #expect(MQTTDecodeError.reservedPacketType(15).description == "reserved packet type 15")
        #expect(MQTTDecodeError.invalidFixedHeaderFlags(packetType: "PINGREQ", flags: 0x1).description == "invalid fixed header flags 0x1 for PINGREQ")
        #expect(MQTTDecodeError.packetTooLarge(size: 300000, limit: 263168).description == "packet of 300000 bytes exceeds the limit of 263168 bytes")
        #expect(MQTTDecodeError.missingPacketID(packetType: "PUBACK").description == "PUBACK has packet identifier 0")
        #expect(MQTTDecodeError.invalidTopic("a/+").description == "invalid topic name \"a/+\"")
    }

    @Test("an error is raised only once the whole packet is there (type 0 with a body still arriving)")
    func errorsWaitForTheWholePacket() throws {
        // The decoder validates a packet when all of it has arrived; until then it asks for more.
        // (The size limit is the exception: it needs only the header.)
        var buffer = ByteBuffer(bytes: [0x00, 0x05, 0x00])
        #expect(try MQTTDecoder.decode(from: &buffer) == nil)
        buffer.writeBytes([0x00, 0x00, 0x00, 0x00])
        #expect(throws: MQTTDecodeError.reservedPacketType(0)) { try MQTTDecoder.decode(from: &buffer) }
    }
}
