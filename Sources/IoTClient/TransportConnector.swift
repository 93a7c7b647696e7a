#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MQTT
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

/// Opens the byte pipe for one transport, up to the point where CONNECT may be sent: TCP, then
/// TLS (SNI and host name checked against the host connected to), then for MQTT over WebSocket
/// the HTTP upgrade. The pipelines, head to tail:
///
///     Mqtt:   TLS → TLSReady → MQTT decoder → MQTT encoder → PacketStream
///     MqttWs: TLS → WebSocket codec → WebSocketClientBridge → MQTT decoder → MQTT encoder → PacketStream
enum TransportConnector {
    static func open(_ transport: IoTClientTransport, host: String, port: Int, tls: NIOSSLContext,
                     group: EventLoopGroup, timeout: Duration) async throws(TransportFailure.Reason) -> MQTTClientConnection {
        let (packets, continuation) = AsyncThrowingStream<MQTTPacket, Error>.makeStream()
        // SNI carries names only; for an IP address NIOSSL checks the certificate's IP SANs
        // against the address connected to.
        let serverHostname = isIPAddress(host) ? nil : host
        let loop = group.next()
        let ready = loop.makePromise(of: Void.self)
        let timeoutNanos = Int64(timeout.seconds * 1e9)
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.nanoseconds(timeoutNanos))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverHostname))
                    switch transport {
                    case .mqtt:
                        try sync.addHandler(TLSReadyHandler(ready: ready))
                        try addMQTTHandlers(sync, continuation: continuation)
                    case .mqttWebSocket:
                        try addWebSocketHandlers(channel, host: host, port: port, ready: ready, continuation: continuation)
                    }
                }
            }
        let channel: Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            ready.fail(error)
            continuation.finish()
            throw classify(error)
        }
        let timer = loop.scheduleTask(in: .nanoseconds(timeoutNanos)) {
            ready.fail(SetupTimedOut())
        }
        do {
            try await ready.futureResult.get()
            timer.cancel()
        } catch {
            timer.cancel()
            channel.close(promise: nil)
            throw classify(error)
        }
        return MQTTClientConnection(channel: channel, packets: packets)
    }

    private static func addMQTTHandlers(_ sync: ChannelPipeline.SynchronousOperations,
                                        continuation: AsyncThrowingStream<MQTTPacket, Error>.Continuation) throws {
        try sync.addHandler(ByteToMessageHandler(MQTTFrameDecoder()))
        try sync.addHandler(MessageToByteHandler(MQTTPacketEncoder()))
        try sync.addHandler(PacketStreamHandler(continuation: continuation))
    }

    private static func addWebSocketHandlers(_ channel: Channel, host: String, port: Int, ready: EventLoopPromise<Void>,
                                             continuation: AsyncThrowingStream<MQTTPacket, Error>.Continuation) throws {
        let requester = WebSocketUpgradeRequester(host: host, port: port, ready: ready)
        let upgrader = NIOWebSocketClientUpgrader(
            maxFrameSize: MQTTDecoder.defaultMaxPacketSize + 16,
            automaticErrorHandling: false,
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(WebSocketClientBridge())
                    try addMQTTHandlers(sync, continuation: continuation)
                    requester.succeed()
                }
            })
        let sync = channel.pipeline.syncOperations
        try sync.addHTTPClientHandlers(withClientUpgrade: (upgraders: [upgrader], completionHandler: { context in
            // Before the WebSocket handlers go in: the requester reads HTTP, not frames.
            context.pipeline.syncOperations.removeHandler(requester, promise: nil)
        }))
        try sync.addHandler(requester)
    }

    /// Names the reason a connection could not be set up.
    static func classify(_ error: Error) -> TransportFailure.Reason {
        switch error {
        case let reason as TransportFailure.Reason:
            return reason
        case let connect as NIOConnectionError:
            if connect.connectionErrors.isEmpty {
                let dns = [connect.dnsAError, connect.dnsAAAAError].compactMap { $0 }.map { "\($0)" }
                return .nameResolution(dns.first ?? "no address for \(connect.host)")
            }
            if connect.connectionErrors.contains(where: { isRefused($0.error) }) { return .connectionRefused }
            return .network(connect.connectionErrors.map { "\($0.target): \($0.error)" }.joined(separator: ", "))
        case ChannelError.connectTimeout:
            return .timedOut
        case is SetupTimedOut:
            return .timedOut
        case let refused as WebSocketUpgradeRefused:
            return .webSocketRejected(refused.reason)
        case is NIOSSLError, is NIOSSLExtraError, is BoringSSLError:
            return .tls("\(error)")
        case is ConnectionClosedDuringSetup:
            return .tls("the server closed the connection during the handshake")
        case let io as IOError where isRefused(io):
            return .connectionRefused
        case let io as IOError:
            return .network("\(io)")
        default:
            return .other("\(error)")
        }
    }

    private static func isRefused(_ error: Error) -> Bool {
        (error as? IOError)?.errnoCode == ECONNREFUSED
    }

    static func isIPAddress(_ host: String) -> Bool {
        if host.contains(":") { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
    }
}

struct SetupTimedOut: Error {}
