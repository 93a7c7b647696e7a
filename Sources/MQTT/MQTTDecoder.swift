import NIOCore

/// Bytes in, packets out. Pure: no I/O, no clocks, so it can be fuzzed directly.
public enum MQTTDecoder {
    /// The largest packet IoT Hub accepts: 256 KiB of message plus MQTT framing.
    public static let defaultMaxPacketSize = 256 * 1024 + 1024

    /// Decodes one packet from the front of `buffer`.
    /// - Returns: the packet, consuming its bytes, or `nil` (consuming nothing) when more bytes
    ///   are needed.
    /// - Throws: `MQTTDecodeError` when the bytes can never become a valid packet; the
    ///   connection must then be closed.
    public static func decode(from buffer: inout ByteBuffer,
                              maxPacketSize: Int = defaultMaxPacketSize) throws -> MQTTPacket? {
        var peek = buffer
        guard let first: UInt8 = peek.readInteger() else { return nil }
        var remaining = 0
        var multiplier = 1
        var lengthBytes = 0
        while true {
            guard let byte: UInt8 = peek.readInteger() else { return nil }
            lengthBytes += 1
            remaining += Int(byte & 0x7F) * multiplier
            if byte & 0x80 == 0 { break }
            if lengthBytes == 4 { throw MQTTDecodeError.malformedRemainingLength }
            multiplier *= 128
        }
        let total = 1 + lengthBytes + remaining
        if total > maxPacketSize { throw MQTTDecodeError.packetTooLarge(size: total, limit: maxPacketSize) }
        guard var body = peek.readSlice(length: remaining) else { return nil }
        let packet = try decodeBody(type: first >> 4, flags: first & 0x0F, body: &body)
        buffer.moveReaderIndex(forwardBy: total)
        return packet
    }

    private static func decodeBody(type: UInt8, flags: UInt8, body: inout ByteBuffer) throws -> MQTTPacket {
        func expectFlags(_ expected: UInt8, _ name: String) throws {
            if flags != expected { throw MQTTDecodeError.invalidFixedHeaderFlags(packetType: name, flags: flags) }
        }
        func finish(_ name: String) throws {
            if body.readableBytes > 0 { throw MQTTDecodeError.trailingBytes(packetType: name, count: body.readableBytes) }
        }
        func packetID(_ name: String) throws -> UInt16 {
            guard let id: UInt16 = body.readInteger() else { throw MQTTDecodeError.truncated(packetType: name, field: "packet identifier") }
            if id == 0 { throw MQTTDecodeError.missingPacketID(packetType: name) }
            return id
        }
        switch type {
        case 1:
            try expectFlags(0, "CONNECT")
            let connect = try decodeConnect(&body)
            try finish("CONNECT")
            return .connect(connect)
        case 2:
            try expectFlags(0, "CONNACK")
            guard let ackFlags: UInt8 = body.readInteger(), let rc: UInt8 = body.readInteger() else {
                throw MQTTDecodeError.truncated(packetType: "CONNACK", field: "return code")
            }
            guard ackFlags & 0xFE == 0, let code = ConnAck.ReturnCode(rawValue: rc) else {
                throw MQTTDecodeError.invalidConnectFlags(ackFlags)
            }
            try finish("CONNACK")
            return .connack(ConnAck(sessionPresent: ackFlags & 1 == 1, returnCode: code))
        case 3:
            return .publish(try decodePublish(flags: flags, body: &body))
        case 4, 5, 7:
            let name = type == 4 ? "PUBACK" : type == 5 ? "PUBREC" : "PUBCOMP"
            try expectFlags(0, name)
            let id = try packetID(name)
            try finish(name)
            return type == 4 ? .puback(packetID: id) : type == 5 ? .pubrec(packetID: id) : .pubcomp(packetID: id)
        case 6:
            try expectFlags(2, "PUBREL")
            let id = try packetID("PUBREL")
            try finish("PUBREL")
            return .pubrel(packetID: id)
        case 8:
            try expectFlags(2, "SUBSCRIBE")
            let id = try packetID("SUBSCRIBE")
            var requests: [Subscribe.Request] = []
            while body.readableBytes > 0 {
                let filter = try readString(&body, packetType: "SUBSCRIBE", field: "topic filter")
                guard let q: UInt8 = body.readInteger() else {
                    throw MQTTDecodeError.truncated(packetType: "SUBSCRIBE", field: "requested QoS")
                }
                guard q & 0xFC == 0, let qos = QoS(rawValue: q) else { throw MQTTDecodeError.invalidQoS(q) }
                requests.append(.init(topicFilter: filter, qos: qos))
            }
            if requests.isEmpty { throw MQTTDecodeError.emptySubscription(packetType: "SUBSCRIBE") }
            return .subscribe(Subscribe(packetID: id, requests: requests))
        case 9:
            try expectFlags(0, "SUBACK")
            let id = try packetID("SUBACK")
            var results: [QoS?] = []
            while let code: UInt8 = body.readInteger() {
                if code == 0x80 { results.append(nil); continue }
                guard let qos = QoS(rawValue: code) else { throw MQTTDecodeError.invalidQoS(code) }
                results.append(qos)
            }
            return .suback(SubAck(packetID: id, results: results))
        case 10:
            try expectFlags(2, "UNSUBSCRIBE")
            let id = try packetID("UNSUBSCRIBE")
            var filters: [String] = []
            while body.readableBytes > 0 {
                filters.append(try readString(&body, packetType: "UNSUBSCRIBE", field: "topic filter"))
            }
            if filters.isEmpty { throw MQTTDecodeError.emptySubscription(packetType: "UNSUBSCRIBE") }
            return .unsubscribe(Unsubscribe(packetID: id, topicFilters: filters))
        case 11:
            try expectFlags(0, "UNSUBACK")
            let id = try packetID("UNSUBACK")
            try finish("UNSUBACK")
            return .unsuback(packetID: id)
        case 12, 13, 14:
            let name = type == 12 ? "PINGREQ" : type == 13 ? "PINGRESP" : "DISCONNECT"
            try expectFlags(0, name)
            try finish(name)
            return type == 12 ? .pingreq : type == 13 ? .pingresp : .disconnect
        default:
            throw MQTTDecodeError.reservedPacketType(type)
        }
    }

    private static func decodeConnect(_ body: inout ByteBuffer) throws -> Connect {
        let name = try readString(&body, packetType: "CONNECT", field: "protocol name")
        guard let level: UInt8 = body.readInteger(), let flags: UInt8 = body.readInteger(),
              let keepAlive: UInt16 = body.readInteger() else {
            throw MQTTDecodeError.truncated(packetType: "CONNECT", field: "variable header")
        }
        // Bit 0 is reserved; a password needs a username; will QoS 3 is invalid; will flags need the will bit.
        let hasWill = flags & 0x04 != 0
        let willQoS = (flags >> 3) & 0x03
        if flags & 0x01 != 0 || willQoS == 3 || (!hasWill && (willQoS != 0 || flags & 0x20 != 0))
            || (flags & 0x40 != 0 && flags & 0x80 == 0) {
            throw MQTTDecodeError.invalidConnectFlags(flags)
        }
        let clientID = try readString(&body, packetType: "CONNECT", field: "client identifier")
        var will: Connect.Will?
        if hasWill {
            let topic = try readString(&body, packetType: "CONNECT", field: "will topic")
            let payload = try readBinary(&body, packetType: "CONNECT", field: "will message")
            will = .init(topic: topic, payload: payload, qos: QoS(rawValue: willQoS)!, retain: flags & 0x20 != 0)
        }
        let username = flags & 0x80 != 0 ? try readString(&body, packetType: "CONNECT", field: "user name") : nil
        let password = flags & 0x40 != 0 ? try readBinary(&body, packetType: "CONNECT", field: "password") : nil
        return Connect(protocolName: name, protocolLevel: level, cleanSession: flags & 0x02 != 0,
                       keepAliveSeconds: keepAlive, clientID: clientID, will: will,
                       username: username, password: password)
    }

    private static func decodePublish(flags: UInt8, body: inout ByteBuffer) throws -> Publish {
        let q = (flags >> 1) & 0x03
        guard let qos = QoS(rawValue: q) else { throw MQTTDecodeError.invalidQoS(q) }
        let duplicate = flags & 0x08 != 0
        if qos == .atMostOnce && duplicate { throw MQTTDecodeError.invalidFixedHeaderFlags(packetType: "PUBLISH", flags: flags) }
        let topic = try readString(&body, packetType: "PUBLISH", field: "topic name")
        // Bytes, not Characters: a grapheme walk over every topic was 5 % of the hub's fan-in
        // profile. '+', '#' and NUL are ASCII, so they never occur inside a multi-byte scalar.
        if topic.isEmpty || topic.utf8.contains(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "#") || $0 == 0 }) {
            throw MQTTDecodeError.invalidTopic(topic)
        }
        var packetID: UInt16?
        if qos != .atMostOnce {
            guard let id: UInt16 = body.readInteger() else {
                throw MQTTDecodeError.truncated(packetType: "PUBLISH", field: "packet identifier")
            }
            if id == 0 { throw MQTTDecodeError.missingPacketID(packetType: "PUBLISH") }
            packetID = id
        }
        let payload = body.readSlice(length: body.readableBytes)!
        return Publish(topic: topic, payload: payload, qos: qos, retain: flags & 0x01 != 0,
                       duplicate: duplicate, packetID: packetID)
    }

    private static func readString(_ body: inout ByteBuffer, packetType: String, field: String) throws -> String {
        guard let length: UInt16 = body.readInteger(), let slice = body.readSlice(length: Int(length)) else {
            throw MQTTDecodeError.truncated(packetType: packetType, field: field)
        }
        // Validated straight from the buffer, without an intermediate array.
        let string = slice.withUnsafeReadableBytes { String(validating: $0.assumingMemoryBound(to: UInt8.self), as: UTF8.self) }
        guard let string else { throw MQTTDecodeError.invalidUTF8(field: field) }
        return string
    }

    private static func readBinary(_ body: inout ByteBuffer, packetType: String, field: String) throws -> [UInt8] {
        guard let length: UInt16 = body.readInteger(), let bytes = body.readBytes(length: Int(length)) else {
            throw MQTTDecodeError.truncated(packetType: packetType, field: field)
        }
        return bytes
    }
}
