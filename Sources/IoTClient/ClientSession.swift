import IoTProtocol
import MQTT
import NIOCore

/// The client's protocol state machine, after the hub's `MQTTChannel`: events in (a connection
/// opened, a packet arrived, the user asked for something, time passed), actions out (packets to
/// write, operations to complete, messages to deliver). No I/O and no clock of its own: `now` is
/// a parameter, so tests drive every rule directly.
///
/// It lives across connections. Operations (publishes, twin requests, subscriptions) wait while
/// the client is offline and are sent again on the next connection, so that each one either
/// completes or fails with its timeout; nothing is dropped silently. After every CONNACK the
/// subscriptions are made again, and queued operations are sent once the hub has acknowledged
/// them, so that an answer never goes to a topic the hub does not yet know the client listens on.
struct ClientSession: Sendable {
    typealias Instant = ContinuousClock.Instant
    typealias OperationID = Int

    enum TwinRequest: Sendable, Equatable {
        case get
        case patchReported
    }

    enum Request: Sendable, Equatable {
        /// A QoS 1 PUBLISH; completes on PUBACK.
        case publish(topic: String, payload: ByteBuffer)
        /// A twin request; completes when `$iothub/twin/res/…` answers its `$rid`.
        case twin(TwinRequest, payload: ByteBuffer)
        /// A subscription; completes on SUBACK, and is made again after every reconnect.
        case subscribe(String)
    }

    enum Completion: Sendable, Equatable {
        case done
        case response(status: Int, version: Int?, payload: ByteBuffer)
    }

    enum Delivery: Sendable, Equatable {
        case desiredPatch(ByteBuffer, version: Int?)
        case method(name: String, requestID: String, payload: ByteBuffer)
        case cloudToDevice(bag: Substring, payload: ByteBuffer)
        case moduleInput(input: String, bag: Substring, payload: ByteBuffer)
    }

    enum Action: Sendable, Equatable {
        case send(MQTTPacket)
        case complete(OperationID, Result<Completion, OperationFailure>)
        case deliver(Delivery)
        /// The answer to CONNECT: accepted (with the session-present flag) or refused.
        case handshake(Result<Bool, TransportFailure.Reason>)
        /// Close the connection; the reason is for the log.
        case close(String)
        /// A publish on a topic the client does not know; logged and dropped.
        case ignored(topic: String)
    }

    /// Why an operation failed, as a value so that actions stay `Equatable`.
    enum OperationFailure: Error, Sendable, Equatable {
        case timedOut(operation: String, after: Duration)
        case subscriptionRefused(String)
        case closed
        /// The caller stopped waiting.
        case cancelled

        var clientError: IoTClientError {
            switch self {
            case .timedOut(let operation, let after): .timedOut(operation: operation, after: after)
            case .subscriptionRefused(let filter): .subscriptionRefused(topicFilter: filter)
            case .closed, .cancelled: .closed
            }
        }
    }

    enum Phase: Sendable, Equatable {
        case offline
        /// CONNECT sent, waiting for CONNACK until the deadline.
        case connecting(deadline: Instant)
        /// CONNACK accepted; the subscriptions are being made again.
        case resubscribing(packetID: UInt16)
        /// Operations flow.
        case ready
        /// `shutdown()` was called.
        case shutDown
    }

    private struct Operation: Sendable {
        var request: Request
        var name: String
        var timeout: Duration
        var deadline: Instant
        /// The `$rid` of a twin request.
        var requestID: String?
        /// The PUBLISH's packet id on the current connection.
        var packetID: UInt16?
        var sentBefore = false
    }

    private enum PacketOwner: Sendable {
        case operation(OperationID)
        case subscription([String])
    }

    let keepAlive: Duration
    private(set) var phase: Phase = .offline
    private var operations: [OperationID: Operation] = [:]
    private var nextOperationID = 1
    private var nextPacketID: UInt16 = 1
    private var nextRequestID = 1
    private var packetOwners: [UInt16: PacketOwner] = [:]
    /// Every filter asked for, in order; made again on each connection.
    private(set) var subscriptions: [String] = []
    /// Filters the hub acknowledged on the current connection.
    private var granted: Set<String> = []
    /// Filters in a SUBSCRIBE not yet acknowledged on the current connection.
    private var subscribing: Set<String> = []
    private var lastSent: Instant
    private var lastReceived: Instant
    private var pingSent: Instant?

    init(keepAlive: Duration, now: Instant) {
        self.keepAlive = keepAlive
        self.lastSent = now
        self.lastReceived = now
    }

    var isReady: Bool { phase == .ready }
    var pendingOperations: Int { operations.count }

    // MARK: connection events

    /// A transport is up: send CONNECT and wait for CONNACK until `timeout`.
    mutating func connectionOpened(_ connect: Connect, timeout: Duration, now: Instant) -> [Action] {
        guard phase != .shutDown else { return [.close("the client is closed")] }
        resetConnection(now: now)
        phase = .connecting(deadline: now + timeout)
        return [send(.connect(connect), now: now)]
    }

    /// The connection is gone. Operations stay and wait for the next one.
    mutating func connectionLost(now: Instant) {
        guard phase != .shutDown else { return }
        resetConnection(now: now)
        phase = .offline
    }

    /// The client is closing: every operation fails, and a connected client says DISCONNECT.
    mutating func shutdown() -> [Action] {
        var actions: [Action] = []
        if phase == .ready || isResubscribing { actions.append(.send(.disconnect)) }
        phase = .shutDown
        for id in operations.keys.sorted() { actions.append(.complete(id, .failure(.closed))) }
        operations = [:]
        packetOwners = [:]
        return actions
    }

    private var isResubscribing: Bool {
        if case .resubscribing = phase { return true }
        return false
    }

    private mutating func resetConnection(now: Instant) {
        packetOwners = [:]
        granted = []
        subscribing = []
        pingSent = nil
        lastSent = now
        lastReceived = now
        for id in operations.keys { operations[id]?.packetID = nil }
    }

    // MARK: operations

    /// Queues a request; it is sent now if the client is ready, else after the next connection.
    mutating func submit(_ request: Request, name: String, timeout: Duration, now: Instant) -> (OperationID, [Action]) {
        let id = nextOperationID
        nextOperationID += 1
        guard phase != .shutDown else { return (id, [.complete(id, .failure(.closed))]) }
        var operation = Operation(request: request, name: name, timeout: timeout, deadline: now + timeout)
        if case .twin = request {
            operation.requestID = String(nextRequestID)
            nextRequestID += 1
        }
        if case .subscribe(let filter) = request {
            if granted.contains(filter) { return (id, [.complete(id, .success(.done))]) }
            operations[id] = operation
            if !subscriptions.contains(filter) { subscriptions.append(filter) }
            guard phase == .ready || isResubscribing, !subscribing.contains(filter) else { return (id, []) }
            return (id, [sendSubscribe([filter], now: now)])
        }
        operations[id] = operation
        guard phase == .ready else { return (id, []) }
        return (id, [transmit(id, now: now)])
    }

    private mutating func transmit(_ id: OperationID, now: Instant) -> Action {
        var operation = operations[id]!
        let packetID = allocatePacketID()
        let topic: String
        var payload: ByteBuffer
        switch operation.request {
        case .publish(let t, let p):
            topic = t
            payload = p
        case .twin(let kind, let p):
            let rid = operation.requestID!
            topic = kind == .get ? IoTTopic.twinGetRequest(requestID: rid) : IoTTopic.reportedPatchRequest(requestID: rid)
            payload = p
            if kind == .get && payload.readableBytes == 0 { payload = ByteBuffer(string: " ") }
        case .subscribe:
            preconditionFailure("subscriptions are not published")
        }
        let publish = Publish(topic: topic, payload: payload, qos: .atLeastOnce, duplicate: operation.sentBefore, packetID: packetID)
        operation.packetID = packetID
        operation.sentBefore = true
        operations[id] = operation
        packetOwners[packetID] = .operation(id)
        return send(.publish(publish), now: now)
    }

    private mutating func sendSubscribe(_ filters: [String], now: Instant) -> Action {
        let packetID = allocatePacketID()
        packetOwners[packetID] = .subscription(filters)
        subscribing.formUnion(filters)
        return send(.subscribe(Subscribe(packetID: packetID, requests: filters.map { .init(topicFilter: $0, qos: .atLeastOnce) })), now: now)
    }

    private mutating func allocatePacketID() -> UInt16 {
        while packetOwners[nextPacketID] != nil || nextPacketID == 0 { nextPacketID &+= 1 }
        let id = nextPacketID
        nextPacketID &+= 1
        return id
    }

    private mutating func send(_ packet: MQTTPacket, now: Instant) -> Action {
        lastSent = now
        return .send(packet)
    }

    /// The caller stopped waiting: forget the operation. A subscription stays wanted.
    mutating func cancel(_ id: OperationID) -> [Action] {
        guard let operation = operations.removeValue(forKey: id) else { return [] }
        if let packetID = operation.packetID { packetOwners[packetID] = nil }
        return [.complete(id, .failure(.cancelled))]
    }

    // MARK: packets from the hub

    mutating func receive(_ packet: MQTTPacket, now: Instant) -> [Action] {
        pingSent = nil
        lastReceived = now
        switch phase {
        case .offline, .shutDown:
            return []
        case .connecting:
            guard case .connack(let ack) = packet else {
                phase = .offline
                return [.handshake(.failure(.other("the hub sent \(packet.typeName) before CONNACK"))),
                        .close("\(packet.typeName) before CONNACK")]
            }
            guard ack.returnCode == .accepted else {
                phase = .offline
                return [.handshake(.failure(.refused(ack.returnCode))), .close(TransportFailure.Reason.describe(ack.returnCode))]
            }
            return [.handshake(.success(ack.sessionPresent))] + connected(now: now)
        case .resubscribing, .ready:
            return handle(packet, now: now)
        }
    }

    private mutating func connected(now: Instant) -> [Action] {
        guard !subscriptions.isEmpty else { return becomeReady(now: now) }
        let action = sendSubscribe(subscriptions, now: now)
        if case .send(.subscribe(let s)) = action { phase = .resubscribing(packetID: s.packetID) }
        return [action]
    }

    private mutating func becomeReady(now: Instant) -> [Action] {
        phase = .ready
        var actions: [Action] = []
        for id in operations.keys.sorted() {
            guard let operation = operations[id], operation.packetID == nil else { continue }
            if case .subscribe = operation.request { continue }
            actions.append(transmit(id, now: now))
        }
        return actions
    }

    private mutating func handle(_ packet: MQTTPacket, now: Instant) -> [Action] {
        switch packet {
        case .publish(let publish):
            var actions: [Action] = []
            if publish.qos != .atMostOnce, let id = publish.packetID { actions.append(send(.puback(packetID: id), now: now)) }
            return actions + received(publish)
        case .puback(let packetID):
            guard case .operation(let id)? = packetOwners.removeValue(forKey: packetID),
                  let operation = operations[id], operation.packetID == packetID else { return [] }
            if case .twin = operation.request {
                operations[id]?.packetID = nil  // acknowledged; the answer comes on $iothub/twin/res
                operations[id]?.sentBefore = true
                return []
            }
            operations[id] = nil
            return [.complete(id, .success(.done))]
        case .suback(let ack):
            guard case .subscription(let filters)? = packetOwners.removeValue(forKey: ack.packetID) else { return [] }
            var actions: [Action] = []
            for (index, filter) in filters.enumerated() {
                subscribing.remove(filter)
                let result = index < ack.results.count ? ack.results[index] : nil
                if result != nil {
                    granted.insert(filter)
                } else {
                    subscriptions.removeAll { $0 == filter }
                }
                for id in operations.keys.sorted() where operations[id]?.request == .subscribe(filter) {
                    operations[id] = nil
                    actions.append(.complete(id, result != nil ? .success(.done) : .failure(.subscriptionRefused(filter))))
                }
            }
            if case .resubscribing(let expected) = phase, expected == ack.packetID {
                actions += becomeReady(now: now)
            }
            return actions
        case .pingresp, .unsuback:
            return []
        case .connect, .connack, .subscribe, .unsubscribe, .pingreq, .disconnect, .pubrec, .pubrel, .pubcomp:
            return [.close("unexpected \(packet.typeName) from the hub")]
        }
    }

    private mutating func received(_ publish: Publish) -> [Action] {
        switch IoTTopic.parseOutbound(publish.topic) {
        case .twinResponse(let status, let rid, let version)?:
            guard let id = operations.first(where: { $0.value.requestID == rid })?.key else { return [] }
            if let packetID = operations[id]?.packetID { packetOwners[packetID] = nil }
            operations[id] = nil
            return [.complete(id, .success(.response(status: status, version: version, payload: publish.payload)))]
        case .desiredPatch(let version)?:
            return [.deliver(.desiredPatch(publish.payload, version: version))]
        case .methodRequest(let name, let rid)?:
            return [.deliver(.method(name: name, requestID: rid, payload: publish.payload))]
        case .cloudToDevice(_, let bag)?:
            return [.deliver(.cloudToDevice(bag: bag, payload: publish.payload))]
        case .moduleInput(_, let input, let bag)?:
            return [.deliver(.moduleInput(input: input, bag: bag, payload: publish.payload))]
        case nil:
            return [.ignored(topic: publish.topic)]
        }
    }

    // MARK: time

    /// Fails operations past their deadline, gives up on a CONNACK that does not come, and keeps
    /// the connection alive: PINGREQ after `keepAlive` without sending or without receiving (as
    /// paho does), and the connection is closed when the PINGRESP (or any packet) does not come
    /// within another `keepAlive`.
    mutating func tick(now: Instant) -> [Action] {
        var actions: [Action] = []
        for id in operations.keys.sorted() {
            guard let operation = operations[id], operation.deadline <= now else { continue }
            operations[id] = nil
            if let packetID = operation.packetID { packetOwners[packetID] = nil }
            actions.append(.complete(id, .failure(.timedOut(operation: operation.name, after: operation.timeout))))
        }
        switch phase {
        case .connecting(let deadline) where deadline <= now:
            phase = .offline
            actions += [.handshake(.failure(.timedOut)), .close("no CONNACK in time")]
        case .ready, .resubscribing:
            if let pingSent {
                if now - pingSent >= keepAlive {
                    self.pingSent = nil
                    actions.append(.close("no answer to PINGREQ within \(keepAlive.formattedSeconds)"))
                }
            } else if now - lastSent >= keepAlive || now - lastReceived >= keepAlive {
                pingSent = now
                actions.append(send(.pingreq, now: now))
            }
        default:
            break
        }
        return actions
    }
}
