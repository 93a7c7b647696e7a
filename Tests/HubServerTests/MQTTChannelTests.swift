import HubServer
import IoTProtocol
import MQTT
import NIOCore
import Testing

/// The protocol rules of one device connection, driven through the pure state machine.
@Suite("MQTT channel")
struct MQTTChannelTests {
    static let host = "hub.example"
    static let dev1 = IdentityID(deviceID: "dev1")
    static let mod1 = IdentityID(deviceID: "dev1", moduleID: "mod1")

    static func connect(clientID: String = "dev1", username: String?? = .none, protocolName: String = "MQTT",
                        level: UInt8 = 4, cleanSession: Bool = true, keepAlive: UInt16 = 60) -> Connect {
        let user: String? = username ?? "\(host)/\(clientID)/?api-version=2019-10-01&DeviceClientType=test%2F1.0"
        return Connect(protocolName: protocolName, protocolLevel: level, cleanSession: cleanSession, keepAliveSeconds: keepAlive,
                       clientID: clientID, username: user, password: Array("SharedAccessSignature sr=x&sig=y&se=1".utf8))
    }

    /// A channel past CONNECT and authentication.
    static func connected(_ clientID: String = "dev1", cleanSession: Bool = true,
                          subscriptions: [String: QoS] = [:]) -> MQTTChannel {
        var channel = MQTTChannel()
        _ = channel.receive(.connect(connect(clientID: clientID, cleanSession: cleanSession)))
        _ = channel.authenticated(sessionPresent: !subscriptions.isEmpty, subscriptions: subscriptions)
        return channel
    }

    static func publish(_ topic: String, _ payload: String = "{}", qos: QoS = .atMostOnce, packetID: UInt16? = nil) -> MQTTPacket {
        .publish(Publish(topic: topic, payload: ByteBuffer(string: payload), qos: qos, packetID: packetID))
    }

    /// The single close action's reason, if `actions` is exactly one close (or ends with one).
    static func closeReason(_ actions: [MQTTChannel.Action]) -> DisconnectReason? {
        if case .close(let reason) = actions.last { return reason }
        return nil
    }

    static func isProtocolViolation(_ r: DisconnectReason?) -> Bool { if case .protocolViolation = r { true } else { false } }
    static func isTopicNotAllowed(_ r: DisconnectReason?) -> Bool { if case .topicNotAllowed = r { true } else { false } }
    static func isUnauthorized(_ r: DisconnectReason?) -> Bool { if case .unauthorized = r { true } else { false } }

    // MARK: CONNECT

    @Test("a first packet other than CONNECT closes the connection as a protocol violation", arguments: [
        MQTTPacket.pingreq, .disconnect, publish("devices/dev1/messages/events/"),
        .subscribe(Subscribe(packetID: 1, requests: [.init(topicFilter: "$iothub/twin/res/#", qos: .atMostOnce)])),
    ])
    func firstPacketNotConnect(_ packet: MQTTPacket) {
        var channel = MQTTChannel()
        let actions = channel.receive(packet)
        #expect(actions == [.close(.protocolViolation("first packet was \(packet.typeName), not CONNECT"))])
        #expect(channel.phase == .closed)
        #expect(channel.receive(.connect(Self.connect())) == [])
    }

    @Test("protocol level 3 (MQTT 3.1) or another name: CONNACK 1, then close", arguments: [
        (UInt8(3), "MQIsdp"), (3, "MQTT"), (5, "MQTT"), (4, "MQIsdp"),
    ])
    func unsupportedProtocol(level: UInt8, name: String) {
        var channel = MQTTChannel()
        let actions = channel.receive(.connect(Self.connect(protocolName: name, level: level)))
        #expect(actions.count == 2)
        #expect(actions.first == .send(.connack(ConnAck(sessionPresent: false, returnCode: .unacceptableProtocolVersion))))
        #expect(Self.isProtocolViolation(Self.closeReason(actions)))
        #expect(channel.phase == .closed)
    }

    @Test("a client id that is not {device} or {device}/{module}: CONNACK 2", arguments: ["", "a/b/c", "dev 1", "dev1/", "/mod1", String(repeating: "d", count: 129)])
    func badClientID(_ clientID: String) {
        var channel = MQTTChannel()
        let actions = channel.receive(.connect(Self.connect(clientID: clientID, username: "\(Self.host)/\(clientID)/?api-version=1")))
        #expect(actions.first == .send(.connack(ConnAck(sessionPresent: false, returnCode: .identifierRejected))))
        #expect(Self.isProtocolViolation(Self.closeReason(actions)))
        #expect(channel.phase == .closed)
    }

    @Test("a user name for another client, or none, or unparseable: CONNACK 4", arguments: [
        Optional("hub.example/dev2/?api-version=2019-10-01"), "hub.example/dev1/mod1/?api-version=2019-10-01", nil, "dev1", "",
    ])
    func usernameMismatch(_ username: String?) {
        var channel = MQTTChannel()
        let actions = channel.receive(.connect(Self.connect(clientID: "dev1", username: .some(username))))
        #expect(actions.first == .send(.connack(ConnAck(sessionPresent: false, returnCode: .badUsernameOrPassword))))
        #expect(Self.isUnauthorized(Self.closeReason(actions)))
        #expect(channel.phase == .closed)
    }

    @Test("a valid CONNECT asks for authentication of the identity it names")
    func validConnect() throws {
        var channel = MQTTChannel()
        let connect = Self.connect(clientID: "dev1/mod1")
        let actions = channel.receive(.connect(connect))
        #expect(actions.count == 1)
        guard case .authenticate(let c, let identity, let username) = actions.first else {
            Issue.record("expected .authenticate, got \(actions)"); return
        }
        #expect(c == connect)
        #expect(identity == Self.mod1)
        #expect(username.hostName == Self.host)
        #expect(username.deviceClientType == "test/1.0")
        #expect(channel.phase == .authenticating(connect))
        #expect(channel.session == nil)
    }

    @Test("authenticated: CONNACK 0 with the session flag, and the session in place")
    func authenticated() throws {
        var channel = MQTTChannel()
        _ = channel.receive(.connect(Self.connect(cleanSession: false, keepAlive: 240)))
        let actions = channel.authenticated(sessionPresent: true, subscriptions: ["$iothub/twin/res/#": .atMostOnce])
        #expect(actions == [.send(.connack(ConnAck(sessionPresent: true, returnCode: .accepted)))])
        let session = try #require(channel.session)
        #expect(session.identity == Self.dev1)
        #expect(session.keepAliveSeconds == 240)
        #expect(!session.cleanSession)
        #expect(session.subscriptions == ["$iothub/twin/res/#": .atMostOnce])
    }

    @Test("packets that arrive while authenticating are held, then replayed in order after CONNACK")
    func deferredPackets() {
        var channel = MQTTChannel()
        _ = channel.receive(.connect(Self.connect()))
        let telemetry = Self.publish("devices/dev1/messages/events/a=1", "t1", qos: .atLeastOnce, packetID: 7)
        #expect(channel.receive(telemetry) == [])
        #expect(channel.receive(.pingreq) == [])
        #expect(channel.receive(.subscribe(Subscribe(packetID: 8, requests: [.init(topicFilter: "$iothub/methods/POST/#", qos: .atLeastOnce)]))) == [])
        let actions = channel.authenticated(sessionPresent: false, subscriptions: [:])
        #expect(actions == [
            .send(.connack(ConnAck(sessionPresent: false, returnCode: .accepted))),
            .storeTelemetry(Self.dev1, propertyBag: "a=1", payload: ByteBuffer(string: "t1"), packetID: 7),
            .send(.pingresp),
            .subscribe(packetID: 8, granted: [.init(topicFilter: "$iothub/methods/POST/#", qos: .atLeastOnce)], durable: false),
        ])
        // Replayed once only.
        #expect(channel.receive(.pingreq) == [.send(.pingresp)])
    }

    @Test("a flood of packets before CONNACK closes the connection instead of being held")
    func deferredFlood() {
        var channel = MQTTChannel()
        _ = channel.receive(.connect(Self.connect()))
        for _ in 0..<MQTTChannel.maxDeferredPackets { #expect(channel.receive(.pingreq) == []) }
        #expect(Self.isProtocolViolation(Self.closeReason(channel.receive(.pingreq))))
        #expect(channel.phase == .closed)
        #expect(channel.authenticated(sessionPresent: false, subscriptions: [:]) == [])
    }

    @Test("a held packet that breaks a rule closes the connection after CONNACK; later held packets are dropped")
    func deferredViolation() {
        var channel = MQTTChannel()
        _ = channel.receive(.connect(Self.connect()))
        _ = channel.receive(Self.publish("devices/dev2/messages/events/"))
        _ = channel.receive(.pingreq)
        let actions = channel.authenticated(sessionPresent: false, subscriptions: [:])
        #expect(actions.count == 2)
        #expect(actions.first == .send(.connack(ConnAck(sessionPresent: false, returnCode: .accepted))))
        #expect(Self.isTopicNotAllowed(Self.closeReason(actions)))
        #expect(channel.phase == .closed)
    }

    @Test("rejected credentials: CONNACK with the code, close, and held packets are dropped")
    func rejected() {
        var channel = MQTTChannel()
        _ = channel.receive(.connect(Self.connect()))
        _ = channel.receive(.pingreq)
        let actions = channel.rejected(.notAuthorized, reason: .unauthorized("bad token"))
        #expect(actions == [.send(.connack(ConnAck(sessionPresent: false, returnCode: .notAuthorized))), .close(.unauthorized("bad token"))])
        #expect(channel.phase == .closed)
        #expect(channel.authenticated(sessionPresent: false, subscriptions: [:]) == [])
        #expect(channel.receive(.pingreq) == [])
    }

    @Test("a second CONNECT is a protocol violation")
    func secondConnect() {
        var channel = Self.connected()
        let actions = channel.receive(.connect(Self.connect()))
        #expect(actions.count == 1)
        #expect(Self.isProtocolViolation(Self.closeReason(actions)))
    }

    // MARK: PUBLISH

    @Test("device telemetry is stored, with its property bag, payload and packet id")
    func deviceTelemetry() {
        var channel = Self.connected()
        #expect(channel.receive(Self.publish("devices/dev1/messages/events/%24.ct=application%2Fjson&k=v", #"{"t":21}"#, qos: .atLeastOnce, packetID: 3))
            == [.storeTelemetry(Self.dev1, propertyBag: "%24.ct=application%2Fjson&k=v", payload: ByteBuffer(string: #"{"t":21}"#), packetID: 3)])
        #expect(channel.receive(Self.publish("devices/dev1/messages/events/"))
            == [.storeTelemetry(Self.dev1, propertyBag: "", payload: ByteBuffer(string: "{}"), packetID: nil)])
        #expect(channel.phase != .closed)
    }

    @Test("module telemetry from the module itself is stored")
    func moduleTelemetry() {
        var channel = Self.connected("dev1/mod1")
        #expect(channel.receive(Self.publish("devices/dev1/modules/mod1/messages/events/%24.on=out1", "x", qos: .atLeastOnce, packetID: 1))
            == [.storeTelemetry(Self.mod1, propertyBag: "%24.on=out1", payload: ByteBuffer(string: "x"), packetID: 1)])
    }

    @Test("publishing as another identity closes the connection: topic not allowed", arguments: [
        ("dev1", "devices/dev2/messages/events/"),
        ("dev1", "devices/dev1/modules/mod1/messages/events/"),
        ("dev1/mod1", "devices/dev1/messages/events/"),
        ("dev1/mod1", "devices/dev1/modules/mod2/messages/events/"),
    ])
    func publishAsAnother(clientID: String, topic: String) {
        var channel = Self.connected(clientID)
        let actions = channel.receive(Self.publish(topic, qos: .atLeastOnce, packetID: 1))
        #expect(actions.count == 1)
        #expect(Self.isTopicNotAllowed(Self.closeReason(actions)))
        #expect(channel.phase == .closed)
    }

    @Test("publishing to a topic that is not IoT Hub's closes the connection", arguments: ["a/b", "devices/dev1/messages/devicebound/", "$iothub/twin/GET/"])
    func publishElsewhere(_ topic: String) {
        var channel = Self.connected()
        #expect(Self.isTopicNotAllowed(Self.closeReason(channel.receive(Self.publish(topic)))))
    }

    @Test("QoS 2 is refused: a QoS 2 PUBLISH, PUBREC, PUBREL or PUBCOMP closes the connection", arguments: [
        publish("devices/dev1/messages/events/", qos: .exactlyOnce, packetID: 1), .pubrec(packetID: 1), .pubrel(packetID: 1), .pubcomp(packetID: 1),
    ])
    func qos2(_ packet: MQTTPacket) {
        var channel = Self.connected()
        let actions = channel.receive(packet)
        #expect(actions.count == 1)
        #expect(Self.isProtocolViolation(Self.closeReason(actions)))
        #expect(channel.phase == .closed)
    }

    @Test("twin requests are acknowledged (QoS 1) and handed on")
    func twinRequests() {
        var channel = Self.connected()
        #expect(channel.receive(Self.publish("$iothub/twin/GET/?$rid=1", "", qos: .atLeastOnce, packetID: 9))
            == [.send(.puback(packetID: 9)), .twinGet(requestID: "1")])
        #expect(channel.receive(Self.publish("$iothub/twin/PATCH/properties/reported/?$rid=2", "{\"a\":1}"))
            == [.twinPatchReported(requestID: "2", payload: ByteBuffer(string: "{\"a\":1}"))])
    }

    @Test("a method response is acknowledged at QoS 1 and handed on with its status and payload")
    func methodResponse() {
        var channel = Self.connected()
        #expect(channel.receive(Self.publish("$iothub/methods/res/200/?$rid=5", "{}", qos: .atLeastOnce, packetID: 4))
            == [.send(.puback(packetID: 4)), .methodResponse(status: 200, requestID: "5", payload: ByteBuffer(string: "{}"))])
        #expect(channel.receive(Self.publish("$iothub/methods/res/404/?$rid=6", "x"))
            == [.methodResponse(status: 404, requestID: "6", payload: ByteBuffer(string: "x"))])
    }

    // MARK: SUBSCRIBE / UNSUBSCRIBE

    @Test("subscribing to one's own cloud-to-device messages is granted at QoS 1 at most", arguments: [QoS.atMostOnce, .atLeastOnce, .exactlyOnce])
    func subscribeOwnC2D(_ requested: QoS) throws {
        var channel = Self.connected()
        let filter = "devices/dev1/messages/devicebound/#"
        let actions = channel.receive(.subscribe(Subscribe(packetID: 2, requests: [.init(topicFilter: filter, qos: requested)])))
        let granted = min(requested, .atLeastOnce)
        #expect(actions == [.subscribe(packetID: 2, granted: [.init(topicFilter: filter, qos: granted)], durable: false)])
        #expect(try #require(channel.session).subscriptions == [filter: granted])
    }

    @Test("several filters in one SUBSCRIBE; a durable session asks for persistence")
    func subscribeSeveral() throws {
        var channel = Self.connected("dev1/mod1", cleanSession: false)
        let actions = channel.receive(.subscribe(Subscribe(packetID: 3, requests: [
            .init(topicFilter: "devices/dev1/modules/mod1/inputs/#", qos: .atLeastOnce),
            .init(topicFilter: "$iothub/methods/POST/#", qos: .atMostOnce),
            .init(topicFilter: "$iothub/twin/res/#", qos: .exactlyOnce),
            .init(topicFilter: "$iothub/twin/PATCH/properties/desired/#", qos: .atLeastOnce),
        ])))
        #expect(actions == [.subscribe(packetID: 3, granted: [
            .init(topicFilter: "devices/dev1/modules/mod1/inputs/#", qos: .atLeastOnce),
            .init(topicFilter: "$iothub/methods/POST/#", qos: .atMostOnce),
            .init(topicFilter: "$iothub/twin/res/#", qos: .atLeastOnce),
            .init(topicFilter: "$iothub/twin/PATCH/properties/desired/#", qos: .atLeastOnce),
        ], durable: true)])
        #expect(try #require(channel.session).subscriptions.count == 4)
    }

    @Test("subscribing to another identity's messages, or to a non-IoT filter, closes the connection", arguments: [
        ("dev1", "devices/dev2/messages/devicebound/#"),
        ("dev1", "devices/+/messages/devicebound/#"),
        ("dev1/mod1", "devices/dev1/messages/devicebound/#"),
        ("dev1", "devices/dev1/modules/mod1/inputs/#"),
        ("dev1/mod1", "devices/dev1/modules/mod2/inputs/#"),
        ("dev1", "#"),
        ("dev1", "devices/dev1/messages/events/#"),
    ])
    func subscribeNotAllowed(clientID: String, filter: String) {
        var channel = Self.connected(clientID)
        let actions = channel.receive(.subscribe(Subscribe(packetID: 1, requests: [
            .init(topicFilter: "$iothub/twin/res/#", qos: .atMostOnce), .init(topicFilter: filter, qos: .atLeastOnce),
        ])))
        #expect(actions.count == 1)
        #expect(Self.isTopicNotAllowed(Self.closeReason(actions)))
        #expect(channel.phase == .closed)
    }

    @Test("unsubscribe removes the filters from the session")
    func unsubscribe() throws {
        var channel = Self.connected(cleanSession: false, subscriptions: ["$iothub/twin/res/#": .atMostOnce, "$iothub/methods/POST/#": .atLeastOnce])
        let actions = channel.receive(.unsubscribe(Unsubscribe(packetID: 6, topicFilters: ["$iothub/twin/res/#", "not/subscribed"])))
        #expect(actions == [.unsubscribe(packetID: 6, filters: ["$iothub/twin/res/#", "not/subscribed"], durable: true)])
        #expect(try #require(channel.session).subscriptions == ["$iothub/methods/POST/#": .atLeastOnce])
    }

    // MARK: other packets

    @Test("PINGREQ is answered with PINGRESP")
    func ping() {
        var channel = Self.connected()
        #expect(channel.receive(.pingreq) == [.send(.pingresp)])
        #expect(channel.receive(.pingreq) == [.send(.pingresp)])
    }

    @Test("PUBACK from the client (for a C2D message) is handed on and needs no answer")
    func puback() {
        var channel = Self.connected()
        #expect(channel.receive(.puback(packetID: 1)) == [.acknowledged(packetID: 1)])
        #expect(channel.phase != .closed)
    }

    @Test("DISCONNECT closes cleanly; nothing is processed after it")
    func disconnect() {
        var channel = Self.connected()
        #expect(channel.receive(.disconnect) == [.close(.clientDisconnected)])
        #expect(channel.phase == .closed)
        #expect(channel.receive(.pingreq) == [])
    }

    @Test("server-to-client packets from the client close the connection", arguments: [
        MQTTPacket.connack(ConnAck(sessionPresent: false, returnCode: .accepted)), .suback(SubAck(packetID: 1, results: [.atMostOnce])),
        .unsuback(packetID: 1), .pingresp,
    ])
    func serverPacketsFromClient(_ packet: MQTTPacket) {
        var channel = Self.connected()
        #expect(Self.isProtocolViolation(Self.closeReason(channel.receive(packet))))
    }

    @Test("closed(): the connection is gone, later packets are ignored")
    func closed() {
        var channel = Self.connected()
        channel.closed()
        #expect(channel.phase == .closed)
        #expect(channel.receive(.pingreq) == [])
        #expect(channel.session == nil)
    }
}
