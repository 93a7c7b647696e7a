import Foundation
import HubStore
import IoTProtocol
import Logging
import MQTT
import NIOConcurrencyHelpers
import NIOCore

/// The connection layer of one MQTT client (TCP+TLS or WebSocket): feeds packets to the pure
/// `MQTTChannel`, performs the actions it returns, runs the CONNECT and keep-alive timers.
/// It never interprets packets itself.
final class MQTTConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = MQTTPacket
    typealias OutboundOut = MQTTPacket

    enum Transport: String { case mqtt = "Mqtt", mqttWebSocket = "MqttWs" }

    let hub: Hub
    private let transport: Transport
    private(set) var channel = MQTTChannel()
    private(set) var context: ChannelHandlerContext?
    private(set) var logger: Logger
    private var lastReceived = NIODeadline.now()
    private var connectTimer: Scheduled<Void>?
    private var keepAliveTimer: RepeatedTask?
    private var closeReason: DisconnectReason?
    var isOpen: Bool { closeReason == nil }
    private(set) var registeredClientID: String?
    private var remoteAddress = "unknown"
    /// Shared with the connection registry, so other threads can see what this client listens to.
    let pushSubscriptions = NIOLockedValueBox<PushSubscriptions>([])
    /// Cloud-to-device messages sent and not yet acknowledged.
    var c2dInFlight = CloudToDeviceWindow()
    /// Module input messages sent and not yet acknowledged.
    var inputsInFlight = InputWindow()
    /// Who this connection is and since when, for the Connections log.
    var facts: ConnectionFacts

    init(hub: Hub, transport: Transport) {
        self.hub = hub
        self.transport = transport
        self.logger = hub.logger
        self.facts = ConnectionFacts(protocolName: transport.rawValue)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        remoteAddress = context.channel.remoteAddress?.ipAddress ?? "unknown"
        facts.remoteAddress = remoteAddress
        logger[metadataKey: "remote"] = "\(remoteAddress)"
        logger[metadataKey: "protocol"] = "\(transport.rawValue)"
        let timeout = TimeAmount.nanoseconds(Int64(hub.config.connectTimeout.components.seconds) * 1_000_000_000)
        connectTimer = context.eventLoop.scheduleTask(in: timeout) { [weak self] in
            guard let self, self.channel.session == nil else { return }
            self.close(.connectTimeout)
        }
    }

    /// The context holds this handler, so holding the context back would keep both, and all the
    /// connection's state, alive after the channel is gone: 12,000 connections leaked 12,000
    /// handlers, about 2.4 KB each with what they held (found with heaptrack, BENCHMARKS.md).
    func handlerRemoved(context: ChannelHandlerContext) {
        connectTimer?.cancel()
        keepAliveTimer?.cancel()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastReceived = .now()
        perform(channel.receive(unwrapInboundIn(data)))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let decode = error as? MQTTDecodeError {
            close(.protocolViolation(decode.description))
        } else if closeReason == nil {
            close(.socketClosed)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        connectTimer?.cancel()
        keepAliveTimer?.cancel()
        let reason = closeReason ?? .socketClosed
        closeReason = reason
        channel.closed()
        inputsInFlight.abandonAll()
        if let clientID = registeredClientID {
            let wasCurrent = hub.connections.remove(clientID, id: ObjectIdentifier(self))
            logger.info("disconnected", metadata: ["client": "\(clientID)", "reason": "\(reason)"])
            if let identity = IdentityID(clientID: clientID), wasCurrent {
                let store = hub.store
                Task { try? await store.setConnectionState(deviceID: identity.deviceID, moduleID: identity.moduleID, connected: false, at: Date()) }
            }
        } else if case .unauthorized = reason {
            // logged where it was decided
        } else {
            logger.debug("connection closed before CONNECT completed", metadata: ["reason": "\(reason)"])
        }
        failInFlightWork()
        recordConnectionEnd(reason)
        context.fireChannelInactive()
    }

    // MARK: actions

    private func perform(_ actions: [MQTTChannel.Action]) {
        for action in actions {
            switch action {
            case .send(let packet):
                context?.writeAndFlush(wrapOutboundOut(packet), promise: nil)
            case .authenticate(let connect, let identity, let username):
                facts.identity = identity
                facts.sdkVersion = username.deviceClientType
                facts.keepAliveSeconds = Int(connect.keepAliveSeconds)
                authenticate(connect, identity: identity, username: username)
            case .storeTelemetry(let identity, let bag, let payload, let packetID):
                storeTelemetry(identity, bag: bag, payload: payload, packetID: packetID)
            case .subscribe(let packetID, let granted, let durable):
                subscribe(packetID: packetID, granted: granted, durable: durable)
            case .unsubscribe(let packetID, let filters, let durable):
                unsubscribe(packetID: packetID, filters: filters, durable: durable)
            case .twinGet(let rid):
                serveTwinGet(requestID: rid)
            case .twinPatchReported(let rid, let payload):
                serveReportedPatch(requestID: rid, payload: payload)
            case .methodResponse(let status, let rid, let payload):
                if let clientID = registeredClientID {
                    hub.methods.complete(requestID: rid, from: clientID, status: status, payload: payload)
                }
            case .acknowledged(let packetID):
                if let receipt = inputsInFlight.acknowledge(packetID) { receipt.complete(true) } else {
                    cloudToDeviceAcknowledged(packetID: packetID)
                }
            case .close(let reason):
                close(reason)
            }
        }
    }

    func send(_ packet: MQTTPacket) {
        context?.writeAndFlush(wrapOutboundOut(packet), promise: nil)
    }

    private var flushScheduled = false

    /// Writes now, flushes after the tasks already queued on the event loop: the PUBACKs of one
    /// committed batch arrive as a run of tasks, so they leave in one write rather than one
    /// syscall each (a flush per PUBACK was 14 % of the hub's CPU in the fan-in profile).
    func sendSoon(_ packet: MQTTPacket) {
        guard let context else { return }
        context.write(wrapOutboundOut(packet), promise: nil)
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.execute { [self] in
            flushScheduled = false
            self.context?.flush()
        }
    }

    private func authenticate(_ connect: Connect, identity: IdentityID, username: MQTTUsername) {
        guard let context else { return }
        let hub = self.hub
        let promise = context.eventLoop.makePromise(of: (IdentityRecord, [String: UInt8]?).self)
        promise.completeWithTask {
            let record = try await Authenticator(hub: hub).authenticate(connect, identity: identity, username: username)
            if connect.cleanSession {
                try await hub.store.deleteSession(clientID: identity.clientID)
                return (record, nil)
            }
            let existing = try await hub.store.session(clientID: identity.clientID)
            if existing == nil { try await hub.store.createSession(clientID: identity.clientID) }
            return (record, existing)
        }
        promise.futureResult.whenComplete { [self] result in
            guard closeReason == nil else { return }
            switch result {
            case .success(let (record, session)):
                accept(identity: identity, generationID: record.generationId, session: session, connect: connect, username: username)
            case .failure(let failure as Authenticator.Failure):
                logger.warning("connection refused", metadata: ["client": "\(connect.clientID)", "reason": "\(failure.reason)"])
                perform(channel.rejected(failure.returnCode, reason: .unauthorized(failure.reason)))
            case .failure(let error):
                logger.error("authentication failed", metadata: ["client": "\(connect.clientID)", "error": "\(error)"])
                perform(channel.rejected(.serverUnavailable, reason: .serverError("\(error)")))
            }
        }
    }

    private var generationID = ""
    /// What every message of this connection without a property bag stores as system properties.
    private var systemJSON: (identity: IdentityID, json: String)?
    /// Stored telemetry's outcomes, from the writer thread to the event loop (`takeStoredOutcomes`).
    private let storedOutcomes = NIOLockedValueBox<[StoredOutcome]>([])
    private struct StoredOutcome: Sendable {
        var packetID: UInt16?
        var identity: IdentityID
        var error: (any Error)?
    }

    private func accept(identity: IdentityID, generationID: String, session: [String: UInt8]?, connect: Connect, username: MQTTUsername) {
        guard let context else { return }
        connectTimer?.cancel()
        self.generationID = generationID
        let clientID = identity.clientID
        let loop = context.eventLoop
        let entry = ConnectionRegistry.Entry(
            id: ObjectIdentifier(self), channel: context.channel,
            close: { [weak self] reason in
                loop.execute { self?.close(reason) }
            },
            push: { [weak self] push in
                loop.execute { self?.receivePush(push) }
            },
            subscriptions: pushSubscriptions)
        if let previous = hub.connections.register(clientID, entry) {
            previous.close(.replacedByNewConnection)
        }
        registeredClientID = clientID
        recordConnected()
        logger.info("connected", metadata: ["client": "\(clientID)", "keepAlive": "\(connect.keepAliveSeconds)",
                                             "sdk": "\(username.deviceClientType ?? "unknown")"])
        let store = hub.store
        Task { try? await store.setConnectionState(deviceID: identity.deviceID, moduleID: identity.moduleID, connected: true, at: Date()) }
        let subscriptions = (session ?? [:]).compactMapValues { QoS(rawValue: $0) }
        perform(channel.authenticated(sessionPresent: session != nil, subscriptions: subscriptions))
        startKeepAlive(seconds: Int(connect.keepAliveSeconds), on: context.eventLoop)
        subscriptionsChanged()
    }

    /// MQTT 3.1.1 §3.1.2.10: the server disconnects a client silent for 1.5 × its keep-alive.
    private func startKeepAlive(seconds: Int, on loop: EventLoop) {
        guard seconds > 0 else { return }
        let limit = TimeAmount.milliseconds(Int64(seconds) * 1500)
        let interval = TimeAmount.milliseconds(max(500, Int64(seconds) * 250))
        keepAliveTimer = loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] task in
            guard let self else { task.cancel(); return }
            if NIODeadline.now() - self.lastReceived > limit {
                task.cancel()
                self.close(.keepAliveExpired(seconds: seconds))
            }
        }
    }

    private func storeTelemetry(_ identity: IdentityID, bag: String, payload: ByteBuffer, packetID: UInt16?) {
        guard let context else { return }
        hub.metrics.increment(.telemetryAttempts)
        let record: TelemetryRecord
        do {
            if systemJSON?.identity != identity {
                systemJSON = (identity, TelemetryMessage.systemProperties(for: identity, generationID: generationID))
            }
            record = try TelemetryMessage.record(from: identity, propertyBag: bag, payload: payload, generationID: generationID,
                                                 connectionSystemJSON: systemJSON?.json)
        } catch {
            telemetryFailed(identity, "the property bag is not valid: \(error)")
            close(.protocolViolation("telemetry property bag: \(error)"))
            return
        }
        let loop = context.eventLoop
        // Acknowledge only after the message is durably stored; the writer completes in order,
        // so PUBACKs leave in the order the PUBLISHes came. Outcomes gather in a list that the
        // event loop takes whole: one task per commit, not one per message.
        hub.writer.submit(record) { [weak self] result in
            guard let self else { return }
            var error: (any Error)?
            if case .failure(let e) = result { error = e }
            let outcome = StoredOutcome(packetID: packetID, identity: identity, error: error)
            let first = self.storedOutcomes.withLockedValue { list -> Bool in
                list.append(outcome)
                return list.count == 1
            }
            if first { loop.execute { self.takeStoredOutcomes() } }
        }
    }

    private func takeStoredOutcomes() {
        let outcomes = storedOutcomes.withLockedValue { list -> [StoredOutcome] in
            defer { list.removeAll(keepingCapacity: true) }
            return list
        }
        var stored = 0, acknowledged = 0
        for outcome in outcomes {
            if let error = outcome.error {
                telemetryFailed(outcome.identity, "the hub could not store it: \(error)", code: .serverError)
                logger.error("storing telemetry failed", metadata: ["error": "\(error)"])
                close(.serverError("storing telemetry failed: \(error)"))
                continue
            }
            stored += 1
            if let packetID = outcome.packetID, let context {
                context.write(wrapOutboundOut(.puback(packetID: packetID)), promise: nil)
                acknowledged += 1
            }
        }
        if acknowledged > 0 { context?.flush() }
        if stored > 0 { hub.metrics.increment(.telemetrySuccess, by: stored) }
    }

    private func subscribe(packetID: UInt16, granted: [Subscribe.Request], durable: Bool) {
        guard let context, let clientID = registeredClientID else { return }
        let ack = MQTTPacket.suback(SubAck(packetID: packetID, results: granted.map { $0.qos }))
        guard durable else { send(ack); subscriptionsChanged(); return }
        let store = hub.store
        let pairs = granted.map { ($0.topicFilter, $0.qos.rawValue) }
        let promise = context.eventLoop.makePromise(of: Void.self)
        promise.completeWithTask { try await store.addSubscriptions(clientID: clientID, pairs) }
        promise.futureResult.whenComplete { [self] result in
            switch result {
            case .success: send(ack); subscriptionsChanged()
            case .failure(let error): close(.serverError("saving subscriptions failed: \(error)"))
            }
        }
    }

    private func unsubscribe(packetID: UInt16, filters: [String], durable: Bool) {
        guard let context, let clientID = registeredClientID else { return }
        subscriptionsChanged()
        guard durable else { send(.unsuback(packetID: packetID)); return }
        let store = hub.store
        let promise = context.eventLoop.makePromise(of: Void.self)
        promise.completeWithTask { try await store.removeSubscriptions(clientID: clientID, filters) }
        promise.futureResult.whenComplete { [self] _ in send(.unsuback(packetID: packetID)) }
    }

    func close(_ reason: DisconnectReason) {
        guard closeReason == nil, let context else { return }
        closeReason = reason
        channel.closed()
        switch reason {
        case .clientDisconnected, .hubShuttingDown: break
        case .unauthorized: break
        case .socketClosed where registeredClientID == nil:
            logger.debug("connection closed before CONNECT", metadata: ["reason": "\(reason)"])
        default:
            logger.warning("closing connection", metadata: ["client": "\(registeredClientID ?? "-")", "reason": "\(reason)"])
        }
        context.close(promise: nil)
    }
}
