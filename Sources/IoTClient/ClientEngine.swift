#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IoTProtocol
import Logging
import MQTT
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import Twin

/// Runs one `ClientSession`: opens connections (each transport in turn), feeds their packets to
/// the session and performs the actions it returns, reconnects with back-off when a connection
/// is lost, renews the token by reconnecting before it expires, and ticks the session's timers.
/// All the protocol rules are in the session; this is the policy and the plumbing.
actor ClientEngine {
    typealias Instant = ContinuousClock.Instant

    private enum State: Equatable {
        case idle
        case connecting
        case running
        case closed
    }

    private enum Loss: Sendable, Equatable {
        case lost(String)
        case tokenRenewal
    }

    private struct LiveConnection {
        var id: Int
        var connection: MQTTClientConnection
        var transport: IoTClientTransport
        var established = false
    }

    let configuration: IoTClientConfiguration
    let logger: Logger
    private let group: EventLoopGroup
    private let tls: NIOSSLContext
    private let clock = ContinuousClock()
    let output: ClientOutput

    private var state: State = .idle
    private var session: ClientSession
    private var connection: LiveConnection?
    private var nextConnectionID = 0
    private var handshake: CheckedContinuation<Void, Error>?
    private var waiters: [ClientSession.OperationID: Waiter] = [:]
    private var renewAt: Instant?
    private var renewing = false
    private var preferredTransport: IoTClientTransport?
    private(set) var methodHandler: (@Sendable (MethodRequest) async -> MethodResponse)?
    private let losses: AsyncStream<Loss>
    private let lossContinuation: AsyncStream<Loss>.Continuation
    private var supervisor: Task<Void, Never>?
    private var ticker: Task<Void, Never>?

    init(configuration: IoTClientConfiguration, logger: Logger, group: EventLoopGroup, output: ClientOutput) throws(IoTClientError) {
        try configuration.validate()
        var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
        tlsConfiguration.minimumTLSVersion = .tlsv12
        if let pem = configuration.trustedCAPEM {
            do {
                let certificates = try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8))
                guard !certificates.isEmpty else { throw IoTClientError.invalidConfiguration("no certificate in the PEM text") }
                tlsConfiguration.trustRoots = .certificates(certificates)
            } catch {
                throw .invalidConfiguration("the trusted CA is not a PEM certificate: \(error)")
            }
        }
        do { tls = try NIOSSLContext(configuration: tlsConfiguration) } catch {
            throw .invalidConfiguration("TLS setup failed: \(error)")
        }
        self.configuration = configuration
        self.logger = logger
        self.group = group
        self.output = output
        self.session = ClientSession(keepAlive: configuration.keepAlive, now: ContinuousClock.now)
        (losses, lossContinuation) = AsyncStream.makeStream(of: Loss.self)
    }

    var isConnected: Bool { session.isReady }

    // MARK: connecting

    func connect() async throws {
        switch state {
        case .closed: throw IoTClientError.closed
        case .running: return
        case .connecting: throw IoTClientError.invalidConfiguration("connect() is already running")
        case .idle: break
        }
        state = .connecting
        startTicker()
        do {
            try await establish()
        } catch {
            if state == .connecting { state = .idle }
            throw error
        }
        guard state == .connecting else { throw IoTClientError.closed }
        state = .running
        supervisor = Task { await self.supervise() }
    }

    /// Tries each transport in turn, the one that worked last time first.
    private func establish() async throws {
        var order = configuration.transports
        if let preferred = preferredTransport, let index = order.firstIndex(of: preferred) {
            order.remove(at: index)
            order.insert(preferred, at: 0)
        }
        var failures: [TransportFailure] = []
        for transport in order {
            guard state != .closed else { throw IoTClientError.closed }
            output.emit(.attempting(transport))
            do {
                try await attempt(transport)
                preferredTransport = transport
                output.emit(.connected(transport))
                logger.info("connected to IoT Hub", metadata: [
                    "transport": "\(transport)", "host": "\(configuration.connectHost):\(configuration.port(for: transport))",
                ])
                return
            } catch {
                let reason = error as? TransportFailure.Reason ?? .other("\(error)")
                let failure = TransportFailure(transport: transport, host: configuration.connectHost,
                                               port: configuration.port(for: transport), reason: reason)
                logger.warning("connection to IoT Hub failed", metadata: ["error": "\(failure)"])
                output.emit(.attemptFailed(failure))
                failures.append(failure)
            }
        }
        guard state != .closed else { throw IoTClientError.closed }
        throw IoTClientError.connectFailed(failures)
    }

    private func attempt(_ transport: IoTClientTransport) async throws {
        let tokenMade = clock.now
        let password = try await makeToken()
        let host = configuration.connectHost
        let opened = try await TransportConnector.open(transport, host: host, port: configuration.port(for: transport),
                                                       tls: tls, group: group, timeout: configuration.connectTimeout)
        guard state != .closed else {
            opened.close()
            throw TransportFailure.Reason.other("the client was closed")
        }
        nextConnectionID += 1
        let id = nextConnectionID
        connection = LiveConnection(id: id, connection: opened, transport: transport)
        Task { await self.read(opened, id: id) }
        let identity = configuration.identity
        let connect = Connect(cleanSession: configuration.cleanSession,
                              keepAliveSeconds: UInt16(configuration.keepAlive.components.seconds),
                              clientID: identity.clientID,
                              username: MQTTUsername.text(hostName: configuration.hostName, clientID: identity.clientID,
                                                          deviceClientType: configuration.productInfo,
                                                          modelID: configuration.modelID),
                              password: Array(password.utf8))
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            handshake = continuation
            perform(session.connectionOpened(connect, timeout: configuration.connectTimeout, now: clock.now))
        }
        let lifetime = configuration.tokenLifetime
        let renewAfter = max(lifetime - .seconds(120), lifetime * 0.75)
        renewAt = tokenMade + renewAfter
    }

    /// A token for this identity, valid for `tokenLifetime` from now.
    private func makeToken() async throws(TransportFailure.Reason) -> String {
        let expiry = currentUnixTime() + Int64(configuration.tokenLifetime.seconds)
        let resource = configuration.identity.resource(host: configuration.hostName)
        do {
            switch configuration.credentials {
            case .sharedAccessKey(let key):
                guard let token = SASToken(resource: resource, key: key, expiry: expiry) else {
                    throw TransportFailure.Reason.credentials("the key is not base64")
                }
                return token.text
            case .signer(let sign):
                let encoded = PercentEncoding.encode(resource)
                let signature = try await sign("\(encoded)\n\(expiry)")
                return "SharedAccessSignature sr=\(encoded)&sig=\(PercentEncoding.encode(signature))&se=\(expiry)"
            case .tokenProvider(let provide):
                return try await provide(resource, expiry)
            }
        } catch let reason as TransportFailure.Reason {
            throw reason
        } catch {
            throw .credentials("\(error)")
        }
    }

    private nonisolated func read(_ connection: MQTTClientConnection, id: Int) async {
        do {
            for try await packet in connection.packets {
                await received(packet, connection: id)
            }
            await ended(connection: id, error: nil)
        } catch {
            await ended(connection: id, error: error)
        }
    }

    private func received(_ packet: MQTTPacket, connection id: Int) {
        guard connection?.id == id else { return }
        perform(session.receive(packet, now: clock.now))
    }

    private func ended(connection id: Int, error: Error?) {
        guard let live = connection, live.id == id else { return }
        connection = nil
        session.connectionLost(now: clock.now)
        if let handshake {
            self.handshake = nil
            handshake.resume(throwing: error.map(TransportConnector.classify) ?? .closedBeforeConnAck)
            return
        }
        guard live.established, state == .running else { return }
        if renewing {
            renewing = false
            lossContinuation.yield(.tokenRenewal)
        } else {
            lossContinuation.yield(.lost(error.map { "\($0)" } ?? "the hub closed the connection"))
        }
    }

    // MARK: staying connected

    private func supervise() async {
        for await loss in losses {
            guard state == .running else { break }
            await reconnect(after: loss)
        }
    }

    private func reconnect(after loss: Loss) async {
        switch loss {
        case .tokenRenewal:
            output.emit(.renewingToken)
        case .lost(let reason):
            logger.warning("connection to IoT Hub lost; reconnecting", metadata: ["reason": "\(reason)"])
            output.emit(.disconnected(reason: reason))
        }
        var attempt = 0
        var immediate = loss == .tokenRenewal
        while state == .running {
            if !immediate {
                let delay = configuration.reconnectBackoff.delay(attempt: attempt)
                output.emit(.retrying(after: delay, attempt: attempt + 1))
                try? await Task.sleep(for: delay)
                guard state == .running else { return }
            }
            immediate = false
            do {
                try await establish()
                return
            } catch {
                logger.warning("reconnecting to IoT Hub failed", metadata: ["error": "\(error)", "attempt": "\(attempt + 1)"])
                attempt += 1
            }
        }
    }

    private func startTicker() {
        guard ticker == nil else { return }
        ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                guard let self else { return }
                await self.tick()
            }
        }
    }

    private func tick() {
        let now = clock.now
        perform(session.tick(now: now))
        if let renewAt, now >= renewAt, session.isReady, let live = connection, !renewing {
            self.renewAt = nil
            renewing = true
            logger.info("reconnecting to renew the SAS token before it expires")
            live.connection.send(.disconnect)
            live.connection.close()
        }
    }

    // MARK: operations

    /// Runs one request through the session and waits for its completion. Cancelling the
    /// calling task stops the wait with `CancellationError` (a PUBLISH already written stays
    /// written).
    func run(_ request: ClientSession.Request, name: String) async throws -> ClientSession.Completion {
        switch state {
        case .idle, .connecting: throw IoTClientError.notConnected
        case .closed: throw IoTClientError.closed
        case .running: break
        }
        try Task.checkCancellation()
        let submitted = SubmittedOperation()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let (id, actions) = session.submit(request, name: name, timeout: configuration.operationTimeout, now: clock.now)
                waiters[id] = .single(continuation)
                submitted.id = id
                perform(actions)
            }
        } onCancel: {
            Task { await self.cancel(submitted.id) }
        }
    }

    /// Submits every request in one turn of the actor, so their packets go out in this order,
    /// and returns each one's outcome once all have one (edgeHub's upstream sends a run of
    /// messages this way: in order, without a round trip each).
    func runBatch(_ requests: [ClientSession.Request], name: String) async throws -> [Result<ClientSession.Completion, Error>] {
        switch state {
        case .idle, .connecting: throw IoTClientError.notConnected
        case .closed: throw IoTClientError.closed
        case .running: break
        }
        guard !requests.isEmpty else { return [] }
        return await withCheckedContinuation { continuation in
            let batch = BatchWaiter(count: requests.count, continuation: continuation)
            for (index, request) in requests.enumerated() {
                let (id, actions) = session.submit(request, name: name, timeout: configuration.operationTimeout, now: clock.now)
                waiters[id] = .batch(batch, index)
                perform(actions)
            }
        }
    }

    private func cancel(_ id: ClientSession.OperationID?) {
        guard let id else { return }
        perform(session.cancel(id))
    }

    func subscribe(_ subscription: IoTTopic.Subscription) async throws {
        let filter = IoTTopic.filter(subscription)
        _ = try await run(.subscribe(filter), name: "subscription to \(filter)")
    }

    func setMethodHandler(_ handler: @escaping @Sendable (MethodRequest) async -> MethodResponse) {
        methodHandler = handler
    }

    func close() async {
        guard state != .closed else { return }
        state = .closed
        perform(session.shutdown())
        let live = connection
        connection = nil
        live?.connection.close()
        if let handshake {
            self.handshake = nil
            handshake.resume(throwing: TransportFailure.Reason.other("the client was closed"))
        }
        ticker?.cancel()
        supervisor?.cancel()
        lossContinuation.finish()
        for (_, waiter) in waiters { waiter.resume(with: .failure(IoTClientError.closed)) }
        waiters = [:]
        if let live { try? await live.connection.channel.closeFuture.get() }
        output.emit(.closed)
        output.finish()
        logger.info("IoT Hub client closed")
    }

    // MARK: actions

    private func perform(_ actions: [ClientSession.Action]) {
        for action in actions {
            switch action {
            case .send(let packet):
                connection?.connection.send(packet)
            case .complete(let id, let result):
                waiters.removeValue(forKey: id)?.resume(with: result.mapError { $0 == .cancelled ? CancellationError() as any Error : $0.clientError as any Error })
            case .deliver(let delivery):
                deliver(delivery)
            case .handshake(let result):
                guard let handshake else { break }
                self.handshake = nil
                switch result {
                case .success: connection?.established = true; handshake.resume()
                case .failure(let reason): handshake.resume(throwing: reason)
                }
            case .close(let reason):
                if let live = connection {
                    logger.info("closing the connection", metadata: ["reason": "\(reason)", "transport": "\(live.transport)"])
                    live.connection.close()
                }
            case .ignored(let topic):
                logger.debug("ignored a message on an unknown topic", metadata: ["topic": "\(topic)"])
            }
        }
    }
}

/// The id of an operation once submitted, for a cancellation handler that may run on any thread.
private final class SubmittedOperation: @unchecked Sendable {
    private let lock = NIOLock()
    private var value: ClientSession.OperationID?

    var id: ClientSession.OperationID? {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}

func currentUnixTime() -> Int64 { Int64(time(nil)) }
