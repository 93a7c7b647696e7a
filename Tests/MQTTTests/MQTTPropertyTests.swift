import MQTT
import NIOCore
import Testing

/// Random valid packets from a seeded generator: the same seed gives the same packets, so a
/// failure names its seed and index and reproduces.
struct PacketGenerator {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    private static let plain = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./$%=&?:; ").map(String.init)
    private static let exotic = ["é", "€", "😀", "ü", "ユ", "\u{7F}", "\u{0301}"]

    /// A UTF-8 string of up to `maxCharacters` characters. Topic names get no wildcards or NUL.
    mutating func string(maxCharacters: Int, topicName: Bool = false) -> String {
        let count = rng.int((topicName ? 1 : 0)...maxCharacters)
        var s = ""
        for _ in 0..<count {
            switch rng.int(0...19) {
            case 0: s += rng.element(Self.exotic)
            case 1 where !topicName: s += rng.element(["+", "#", "\u{0}"])
            default: s += rng.element(Self.plain)
            }
        }
        return s
    }

    mutating func payload() -> [UInt8] {
        rng.chance(5) ? rng.bytes(rng.int(128...20_000)) : rng.bytes(rng.int(0...64))
    }

    mutating func qos() -> QoS { QoS(rawValue: UInt8(rng.int(0...2)))! }

    mutating func packetID() -> UInt16 { UInt16(rng.int(1...65535)) }

    mutating func connect() -> Connect {
        var c = Connect(protocolName: rng.chance(90) ? "MQTT" : string(maxCharacters: 8),
                        protocolLevel: rng.chance(90) ? 4 : UInt8(rng.int(0...255)),
                        cleanSession: rng.bool(), keepAliveSeconds: UInt16(rng.int(0...65535)),
                        clientID: string(maxCharacters: 40))
        if rng.bool() {
            c.will = .init(topic: string(maxCharacters: 30), payload: payload(), qos: qos(), retain: rng.bool())
        }
        if rng.bool() {
            c.username = string(maxCharacters: 120)
            if rng.bool() { c.password = payload() } // a password needs a user name
        }
        return c
    }

    mutating func packet() -> MQTTPacket {
        switch rng.int(0...13) {
        case 0: return .connect(connect())
        case 1:
            let code = ConnAck.ReturnCode(rawValue: UInt8(rng.int(0...5)))!
            return .connack(ConnAck(sessionPresent: rng.bool(), returnCode: code))
        case 2:
            let q = qos()
            return .publish(Publish(topic: string(maxCharacters: 60, topicName: true), payload: ByteBuffer(bytes: payload()), qos: q,
                                    retain: rng.bool(), duplicate: q != .atMostOnce && rng.bool(),
                                    packetID: q == .atMostOnce ? nil : packetID()))
        case 3: return .puback(packetID: packetID())
        case 4: return .pubrec(packetID: packetID())
        case 5: return .pubrel(packetID: packetID())
        case 6: return .pubcomp(packetID: packetID())
        case 7:
            let requests = (0..<rng.int(1...5)).map { _ in Subscribe.Request(topicFilter: string(maxCharacters: 40), qos: qos()) }
            return .subscribe(Subscribe(packetID: packetID(), requests: requests))
        case 8:
            let results: [QoS?] = (0..<rng.int(0...6)).map { _ in rng.chance(25) ? nil : qos() }
            return .suback(SubAck(packetID: packetID(), results: results))
        case 9:
            return .unsubscribe(Unsubscribe(packetID: packetID(), topicFilters: (0..<rng.int(1...5)).map { _ in string(maxCharacters: 40) }))
        case 10: return .unsuback(packetID: packetID())
        case 11: return .pingreq
        case 12: return .pingresp
        default: return .disconnect
        }
    }
}

@Suite("MQTT codec properties")
struct MQTTPropertyTests {
    static let seeds: [UInt64] = [1, 0x0DDB_A11, 20_260_125]

    @Test("decode(encode(p)) == p and re-encoding gives the same bytes, for 2,000 random packets", arguments: seeds)
    func randomRoundTrip(seed: UInt64) throws {
        var generator = PacketGenerator(seed: seed)
        for index in 0..<2000 {
            let packet = generator.packet()
            let bytes = Wire.encode(packet)
            let (decoded, consumed) = try Wire.decode(bytes)
            guard let decoded, decoded == packet, consumed == bytes.count else {
                Issue.record("seed \(seed), packet \(index): \(packet) decoded as \(String(describing: decoded)), \(consumed) of \(bytes.count) bytes")
                return
            }
            #expect(Wire.encode(decoded) == bytes, "seed \(seed), packet \(index): encoding differs after a round trip")
        }
    }

    @Test("a stream of random packets, delivered in random chunks, decodes to the same packets", arguments: seeds)
    func randomStreamInChunks(seed: UInt64) throws {
        var generator = PacketGenerator(seed: seed)
        let packets = (0..<300).map { _ in generator.packet() }
        let stream = packets.flatMap(Wire.encode)
        var buffer = ByteBuffer()
        var decoded: [MQTTPacket] = []
        var offset = 0
        while offset < stream.count {
            let chunk = min(generator.rng.int(1...300), stream.count - offset)
            buffer.writeBytes(stream[offset..<offset + chunk])
            offset += chunk
            while let packet = try MQTTDecoder.decode(from: &buffer) { decoded.append(packet) }
            buffer.discardReadBytes()
        }
        #expect(buffer.readableBytes == 0)
        #expect(decoded.count == packets.count)
        #expect(decoded == packets, "seed \(seed)")
    }

    /// A small fuzzer inside the unit tests: mutated valid packets and random bytes must never
    /// crash the decoder, and whatever decodes must round-trip. (Fuzz/run does this at scale.)
    @Test("mutated and random input never crashes the decoder; what decodes round-trips", arguments: seeds)
    func mutatedInput(seed: UInt64) throws {
        var generator = PacketGenerator(seed: seed)
        for index in 0..<5000 {
            var bytes: [UInt8]
            if generator.rng.chance(30) {
                bytes = generator.rng.bytes(generator.rng.int(0...32))
            } else {
                bytes = Wire.encode(generator.packet())
                for _ in 0..<generator.rng.int(1...3) where !bytes.isEmpty {
                    let at = generator.rng.int(0...bytes.count - 1)
                    switch generator.rng.int(0...2) {
                    case 0: bytes[at] = UInt8(truncatingIfNeeded: generator.rng.next())
                    case 1: bytes.remove(at: at)
                    default: bytes.insert(UInt8(truncatingIfNeeded: generator.rng.next()), at: at)
                    }
                }
            }
            var buffer = ByteBuffer(bytes: bytes)
            while true {
                let before = buffer.readableBytes
                let packet: MQTTPacket?
                do { packet = try MQTTDecoder.decode(from: &buffer) } catch { break }
                guard let packet else { break }
                #expect(buffer.readableBytes < before)
                let again = try Wire.decode(Wire.encode(packet)).0
                #expect(again == packet, "seed \(seed), input \(index): \(bytes)")
            }
        }
    }
}
