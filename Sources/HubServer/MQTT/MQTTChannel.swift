import IoTProtocol
import MQTT
import NIOCore

/// The protocol state machine of one device connection, after EMQX's channel: packets in,
/// actions out, no I/O. `MQTTConnectionHandler` performs the actions (authentication, storage,
/// writes) and reports results back. Keeping this pure is what lets tests drive every rule.
public struct MQTTChannel: Sendable {
    public struct Session: Sendable, Equatable {
        public var identity: IdentityID
        public var cleanSession: Bool
        public var keepAliveSeconds: Int
        public var username: MQTTUsername
        public var subscriptions: [String: QoS] = [:]
    }

    public enum Phase: Sendable, Equatable {
        case awaitingConnect
        case authenticating(Connect)
        case connected(Session)
        case closed
    }

    public enum Action: Sendable, Equatable {
        case send(MQTTPacket)
        case authenticate(Connect, IdentityID, MQTTUsername)
        case storeTelemetry(IdentityID, propertyBag: String, payload: ByteBuffer, packetID: UInt16?)
        /// Persist (for a durable session) then answer with SUBACK.
        case subscribe(packetID: UInt16, granted: [Subscribe.Request], durable: Bool)
        case unsubscribe(packetID: UInt16, filters: [String], durable: Bool)
        /// The device asked for its twin; answer on `$iothub/twin/res/…`.
        case twinGet(requestID: String)
        case twinPatchReported(requestID: String, payload: ByteBuffer)
        /// The device answered a direct method.
        case methodResponse(status: Int, requestID: String, payload: ByteBuffer)
        /// The client acknowledged a QoS 1 PUBLISH the hub sent (a cloud-to-device message).
        case acknowledged(packetID: UInt16)
        case close(DisconnectReason)
    }

    public static let maxDeferredPackets = 32

    public private(set) var phase: Phase = .awaitingConnect
    /// Packets that arrived while CONNECT was being authenticated; replayed after.
    private var deferred: [MQTTPacket] = []

    public init() {}

    public var session: Session? {
        if case .connected(let s) = phase { return s }
        return nil
    }

    public mutating func receive(_ packet: MQTTPacket) -> [Action] {
        switch phase {
        case .closed:
            return []
        case .authenticating:
            // A client should wait for CONNACK; a few pipelined packets are kept, a flood is not.
            guard deferred.count < Self.maxDeferredPackets else {
                return close(.protocolViolation("more than \(Self.maxDeferredPackets) packets sent before CONNACK"))
            }
            deferred.append(packet)
            return []
        case .awaitingConnect:
            guard case .connect(let connect) = packet else {
                return close(.protocolViolation("first packet was \(packet.typeName), not CONNECT"))
            }
            return handleConnect(connect)
        case .connected(var session):
            let actions = handle(packet, session: &session)
            if case .connected = phase { phase = .connected(session) }
            return actions
        }
    }

    /// The hub accepted the credentials.
    public mutating func authenticated(sessionPresent: Bool, subscriptions: [String: QoS]) -> [Action] {
        guard case .authenticating(let connect) = phase, let identity = IdentityID(clientID: connect.clientID),
              let username = connect.username.flatMap(MQTTUsername.init(parsing:)) else { return [] }
        let session = Session(identity: identity, cleanSession: connect.cleanSession,
                              keepAliveSeconds: Int(connect.keepAliveSeconds), username: username,
                              subscriptions: subscriptions)
        phase = .connected(session)
        var actions: [Action] = [.send(.connack(ConnAck(sessionPresent: sessionPresent, returnCode: .accepted)))]
        let replay = deferred
        deferred = []
        for packet in replay { actions += receive(packet) }
        return actions
    }

    /// The hub refused the credentials: answer with the CONNACK code, then close.
    public mutating func rejected(_ code: ConnAck.ReturnCode, reason: DisconnectReason) -> [Action] {
        phase = .closed
        deferred = []
        return [.send(.connack(ConnAck(sessionPresent: false, returnCode: code))), .close(reason)]
    }

    /// The connection is gone; nothing more will be sent.
    public mutating func closed() { phase = .closed }

    private mutating func handleConnect(_ connect: Connect) -> [Action] {
        guard connect.protocolName == "MQTT", connect.protocolLevel == 4 else {
            return rejected(.unacceptableProtocolVersion,
                            reason: .protocolViolation("protocol \(connect.protocolName) level \(connect.protocolLevel); only MQTT 3.1.1 (level 4) is supported"))
        }
        guard let identity = IdentityID(clientID: connect.clientID) else {
            return rejected(.identifierRejected,
                            reason: .protocolViolation("client id \"\(connect.clientID)\" is not {deviceId} or {deviceId}/{moduleId}"))
        }
        guard let usernameText = connect.username, let username = MQTTUsername(parsing: usernameText) else {
            return rejected(.badUsernameOrPassword,
                            reason: .unauthorized("user name missing or not {hub}/{clientId}/?api-version=…"))
        }
        guard username.clientID == connect.clientID else {
            return rejected(.badUsernameOrPassword,
                            reason: .unauthorized("user name names client \"\(username.clientID)\" but the client id is \"\(connect.clientID)\""))
        }
        phase = .authenticating(connect)
        return [.authenticate(connect, identity, username)]
    }

    private mutating func handle(_ packet: MQTTPacket, session: inout Session) -> [Action] {
        switch packet {
        case .connect:
            return close(.protocolViolation("second CONNECT on one connection"))
        case .publish(let publish):
            return handlePublish(publish, session: session)
        case .puback(let packetID):
            return [.acknowledged(packetID: packetID)]
        case .pubrec, .pubrel, .pubcomp:
            return close(.protocolViolation("QoS 2 is not supported by IoT Hub"))
        case .subscribe(let subscribe):
            var granted: [Subscribe.Request] = []
            for request in subscribe.requests {
                guard let parsed = IoTTopic.parseSubscription(request.topicFilter) else {
                    return close(.topicNotAllowed("subscription to \"\(request.topicFilter)\" is not an IoT Hub topic"))
                }
                guard IoTTopic.maySubscribe(parsed, as: session.identity) else {
                    return close(.topicNotAllowed("\(session.identity) may not subscribe to \"\(request.topicFilter)\""))
                }
                let qos = min(request.qos, .atLeastOnce)
                granted.append(.init(topicFilter: request.topicFilter, qos: qos))
                session.subscriptions[request.topicFilter] = qos
            }
            return [.subscribe(packetID: subscribe.packetID, granted: granted, durable: !session.cleanSession)]
        case .unsubscribe(let unsubscribe):
            for f in unsubscribe.topicFilters { session.subscriptions[f] = nil }
            return [.unsubscribe(packetID: unsubscribe.packetID, filters: unsubscribe.topicFilters, durable: !session.cleanSession)]
        case .pingreq:
            return [.send(.pingresp)]
        case .disconnect:
            return close(.clientDisconnected)
        case .connack, .suback, .unsuback, .pingresp:
            return close(.protocolViolation("\(packet.typeName) is a server-to-client packet"))
        }
    }

    private mutating func handlePublish(_ publish: Publish, session: Session) -> [Action] {
        if publish.qos == .exactlyOnce {
            return close(.protocolViolation("QoS 2 PUBLISH on \"\(publish.topic)\"; IoT Hub accepts QoS 0 and 1"))
        }
        guard let inbound = IoTTopic.parseInbound(publish.topic) else {
            return close(.topicNotAllowed("publish to \"\(publish.topic)\" is not an IoT Hub topic"))
        }
        guard IoTTopic.mayPublish(inbound, as: session.identity) else {
            return close(.topicNotAllowed("\(session.identity) may not publish to \"\(publish.topic)\""))
        }
        switch inbound {
        case .telemetry(let identity, let bag):
            return [.storeTelemetry(identity, propertyBag: String(bag), payload: publish.payload, packetID: publish.packetID)]
        case .twinGet(let rid):
            return ackIfNeeded(publish) + [.twinGet(requestID: rid)]
        case .twinPatchReported(let rid):
            return ackIfNeeded(publish) + [.twinPatchReported(requestID: rid, payload: publish.payload)]
        case .methodResponse(let status, let rid):
            return ackIfNeeded(publish) + [.methodResponse(status: status, requestID: rid, payload: publish.payload)]
        }
    }

    private func ackIfNeeded(_ publish: Publish) -> [Action] {
        publish.packetID.map { [.send(.puback(packetID: $0))] } ?? []
    }

    private mutating func close(_ reason: DisconnectReason) -> [Action] {
        phase = .closed
        deferred = []
        return [.close(reason)]
    }
}
