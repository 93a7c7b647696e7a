import MQTT
import NIOCore
import Testing

/// One named packet of every type and shape, for the round-trip and framing tests.
struct Sample: Sendable, CustomTestStringConvertible {
    var name: String
    var packet: MQTTPacket
    var testDescription: String { name }

    static let all: [Sample] = [
        Sample(name: "CONNECT minimal", packet: .connect(Connect(cleanSession: true, keepAliveSeconds: 60, clientID: "dev1"))),
        Sample(name: "CONNECT empty client id, no keep-alive", packet: .connect(Connect(cleanSession: true, keepAliveSeconds: 0, clientID: ""))),
        Sample(name: "CONNECT user and password", packet: .connect(Connect(
            cleanSession: false, keepAliveSeconds: 1200, clientID: "dev1/mod1",
            username: "hub.example/dev1/mod1/?api-version=2019-10-01",
            password: Array("SharedAccessSignature sr=a&sig=b&se=1".utf8)))),
        Sample(name: "CONNECT user without password", packet: .connect(Connect(
            cleanSession: true, keepAliveSeconds: 30, clientID: "d", username: "hub/d/?api-version=1"))),
        Sample(name: "CONNECT will QoS 1 retained", packet: .connect(Connect(
            cleanSession: true, keepAliveSeconds: 65535, clientID: "dev1",
            will: .init(topic: "devices/dev1/messages/events/", payload: [0, 1, 2, 0xFF], qos: .atLeastOnce, retain: true),
            username: "u", password: []))),
        Sample(name: "CONNECT will QoS 2, binary password", packet: .connect(Connect(
            cleanSession: false, keepAliveSeconds: 5, clientID: "ü-dev",
            will: .init(topic: "w", payload: [], qos: .exactlyOnce, retain: false),
            username: "ユーザー", password: [0x00, 0xFF, 0x80]))),
        Sample(name: "CONNECT other protocol name and level", packet: .connect(Connect(
            protocolName: "MQIsdp", protocolLevel: 3, cleanSession: true, keepAliveSeconds: 10, clientID: "old"))),
        Sample(name: "CONNACK accepted", packet: .connack(ConnAck(sessionPresent: false, returnCode: .accepted))),
        Sample(name: "CONNACK session present", packet: .connack(ConnAck(sessionPresent: true, returnCode: .accepted))),
        Sample(name: "CONNACK not authorized", packet: .connack(ConnAck(sessionPresent: false, returnCode: .notAuthorized))),
        Sample(name: "PUBLISH QoS 0", packet: .publish(Publish(topic: "devices/dev1/messages/events/", payload: ByteBuffer("hello")))),
        Sample(name: "PUBLISH QoS 0 retained, empty payload", packet: .publish(Publish(topic: "a/b", payload: ByteBuffer(), retain: true))),
        Sample(name: "PUBLISH QoS 1", packet: .publish(Publish(
            topic: "devices/dev1/messages/events/%24.ct=application%2Fjson", payload: ByteBuffer(#"{"t":1}"#),
            qos: .atLeastOnce, packetID: 1))),
        Sample(name: "PUBLISH QoS 1 dup retain", packet: .publish(Publish(
            topic: "x", payload: ByteBuffer(bytes: [0, 0xFF]), qos: .atLeastOnce, retain: true, duplicate: true, packetID: 65535))),
        Sample(name: "PUBLISH QoS 2", packet: .publish(Publish(topic: "q2", payload: ByteBuffer("p"), qos: .exactlyOnce, packetID: 7))),
        Sample(name: "PUBLISH UTF-8 topic", packet: .publish(Publish(topic: "capteurs/température/€", payload: ByteBuffer("°C")))),
        Sample(name: "PUBACK", packet: .puback(packetID: 1)),
        Sample(name: "PUBREC", packet: .pubrec(packetID: 2)),
        Sample(name: "PUBREL", packet: .pubrel(packetID: 3)),
        Sample(name: "PUBCOMP", packet: .pubcomp(packetID: 0xFFFF)),
        Sample(name: "SUBSCRIBE one filter", packet: .subscribe(Subscribe(packetID: 10, requests: [
            .init(topicFilter: "devices/dev1/messages/devicebound/#", qos: .atLeastOnce)]))),
        Sample(name: "SUBSCRIBE three filters", packet: .subscribe(Subscribe(packetID: 11, requests: [
            .init(topicFilter: "$iothub/methods/POST/#", qos: .atMostOnce),
            .init(topicFilter: "$iothub/twin/res/#", qos: .atLeastOnce),
            .init(topicFilter: "a/+/c", qos: .exactlyOnce)]))),
        Sample(name: "SUBACK granted", packet: .suback(SubAck(packetID: 10, results: [.atLeastOnce]))),
        Sample(name: "SUBACK with failure 0x80", packet: .suback(SubAck(packetID: 11, results: [.atMostOnce, nil, .exactlyOnce]))),
        Sample(name: "UNSUBSCRIBE", packet: .unsubscribe(Unsubscribe(packetID: 12, topicFilters: ["$iothub/twin/res/#", "a/#"]))),
        Sample(name: "UNSUBACK", packet: .unsuback(packetID: 12)),
        Sample(name: "PINGREQ", packet: .pingreq),
        Sample(name: "PINGRESP", packet: .pingresp),
        Sample(name: "DISCONNECT", packet: .disconnect),
    ]
}

@Suite("MQTT encode then decode")
struct MQTTRoundTripTests {
    @Test("decode(encode(p)) == p, consuming exactly the encoding", arguments: Sample.all)
    func roundTrip(_ sample: Sample) throws {
        let bytes = Wire.encode(sample.packet)
        let (decoded, consumed) = try Wire.decode(bytes)
        #expect(decoded == sample.packet)
        #expect(consumed == bytes.count)
    }

    @Test("the bytes of fixed-size packets are those of the specification")
    func knownBytes() {
        #expect(Wire.encode(.pingreq) == [0xC0, 0x00])
        #expect(Wire.encode(.pingresp) == [0xD0, 0x00])
        #expect(Wire.encode(.disconnect) == [0xE0, 0x00])
        #expect(Wire.encode(.connack(ConnAck(sessionPresent: true, returnCode: .accepted))) == [0x20, 0x02, 0x01, 0x00])
        #expect(Wire.encode(.connack(ConnAck(sessionPresent: false, returnCode: .badUsernameOrPassword))) == [0x20, 0x02, 0x00, 0x04])
        #expect(Wire.encode(.puback(packetID: 0x1234)) == [0x40, 0x02, 0x12, 0x34])
        #expect(Wire.encode(.pubrel(packetID: 1)) == [0x62, 0x02, 0x00, 0x01])
        #expect(Wire.encode(.unsuback(packetID: 9)) == [0xB0, 0x02, 0x00, 0x09])
        #expect(Wire.encode(.suback(SubAck(packetID: 1, results: [.atLeastOnce, nil]))) == [0x90, 0x04, 0x00, 0x01, 0x01, 0x80])
    }

    @Test("CONNECT flags: clean session, will QoS and retain, user name, password")
    func connectFlags() {
        func flags(_ c: Connect) -> UInt8 { Wire.encode(.connect(c))[9] } // header, length, "MQTT" (6), level
        #expect(flags(Connect(cleanSession: true, keepAliveSeconds: 0, clientID: "c")) == 0x02)
        #expect(flags(Connect(cleanSession: false, keepAliveSeconds: 0, clientID: "c")) == 0x00)
        #expect(flags(Connect(cleanSession: false, keepAliveSeconds: 0, clientID: "c", username: "u", password: [1])) == 0xC0)
        #expect(flags(Connect(cleanSession: true, keepAliveSeconds: 0, clientID: "c",
                              will: .init(topic: "t", payload: [], qos: .atLeastOnce, retain: true))) == 0x2E)
        #expect(flags(Connect(cleanSession: false, keepAliveSeconds: 0, clientID: "c",
                              will: .init(topic: "t", payload: [], qos: .exactlyOnce, retain: false))) == 0x14)
    }

    @Test("PUBLISH fixed header: DUP, QoS and RETAIN bits")
    func publishHeader() {
        #expect(Wire.encode(.publish(Publish(topic: "t", payload: ByteBuffer())))[0] == 0x30)
        #expect(Wire.encode(.publish(Publish(topic: "t", payload: ByteBuffer(), retain: true)))[0] == 0x31)
        #expect(Wire.encode(.publish(Publish(topic: "t", payload: ByteBuffer(), qos: .atLeastOnce, packetID: 1)))[0] == 0x32)
        #expect(Wire.encode(.publish(Publish(topic: "t", payload: ByteBuffer(), qos: .atLeastOnce,
                                             retain: true, duplicate: true, packetID: 1)))[0] == 0x3B)
    }

    @Test("a decoded QoS 1 PUBLISH carries its packet id and payload")
    func publishFields() throws {
        let bytes = Wire.frame(0x32, Wire.field("a/b") + [0x00, 0x2A] + Array("body".utf8))
        let (packet, _) = try Wire.decode(bytes)
        guard case .publish(let p) = packet else { Issue.record("not a PUBLISH: \(String(describing: packet))"); return }
        #expect(p.topic == "a/b")
        #expect(p.packetID == 42)
        #expect(p.qos == .atLeastOnce)
        #expect(String(buffer: p.payload) == "body")
    }
}
