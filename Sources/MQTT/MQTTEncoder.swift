import NIOCore

/// Packets in, bytes out. Pure, the inverse of `MQTTDecoder`.
public enum MQTTEncoder {
    public static func encode(_ packet: MQTTPacket, into out: inout ByteBuffer) {
        var body = ByteBuffer()
        let header: UInt8
        switch packet {
        case .connect(let c):
            header = 0x10
            writeString(c.protocolName, &body)
            body.writeInteger(c.protocolLevel)
            var flags: UInt8 = c.cleanSession ? 0x02 : 0
            if let will = c.will {
                flags |= 0x04 | (will.qos.rawValue << 3) | (will.retain ? 0x20 : 0)
            }
            if c.password != nil { flags |= 0x40 }
            if c.username != nil { flags |= 0x80 }
            body.writeInteger(flags)
            body.writeInteger(c.keepAliveSeconds)
            writeString(c.clientID, &body)
            if let will = c.will {
                writeString(will.topic, &body)
                writeBinary(will.payload, &body)
            }
            if let username = c.username { writeString(username, &body) }
            if let password = c.password { writeBinary(password, &body) }
        case .connack(let a):
            header = 0x20
            body.writeInteger(UInt8(a.sessionPresent ? 1 : 0))
            body.writeInteger(a.returnCode.rawValue)
        case .publish(let p):
            header = 0x30 | (p.duplicate ? 0x08 : 0) | (p.qos.rawValue << 1) | (p.retain ? 0x01 : 0)
            writeString(p.topic, &body)
            if let id = p.packetID { body.writeInteger(id) }
            var payload = p.payload
            body.writeBuffer(&payload)
        case .puback(let id): header = 0x40; body.writeInteger(id)
        case .pubrec(let id): header = 0x50; body.writeInteger(id)
        case .pubrel(let id): header = 0x62; body.writeInteger(id)
        case .pubcomp(let id): header = 0x70; body.writeInteger(id)
        case .subscribe(let s):
            header = 0x82
            body.writeInteger(s.packetID)
            for r in s.requests {
                writeString(r.topicFilter, &body)
                body.writeInteger(r.qos.rawValue)
            }
        case .suback(let s):
            header = 0x90
            body.writeInteger(s.packetID)
            for r in s.results { body.writeInteger(r?.rawValue ?? 0x80) }
        case .unsubscribe(let u):
            header = 0xA2
            body.writeInteger(u.packetID)
            for f in u.topicFilters { writeString(f, &body) }
        case .unsuback(let id): header = 0xB0; body.writeInteger(id)
        case .pingreq: header = 0xC0
        case .pingresp: header = 0xD0
        case .disconnect: header = 0xE0
        }
        out.writeInteger(header)
        var length = body.readableBytes
        repeat {
            var byte = UInt8(length % 128)
            length /= 128
            if length > 0 { byte |= 0x80 }
            out.writeInteger(byte)
        } while length > 0
        out.writeBuffer(&body)
    }

    private static func writeString(_ s: String, _ out: inout ByteBuffer) {
        out.writeInteger(UInt16(s.utf8.count))
        out.writeString(s)
    }

    private static func writeBinary(_ b: [UInt8], _ out: inout ByteBuffer) {
        out.writeInteger(UInt16(b.count))
        out.writeBytes(b)
    }
}
