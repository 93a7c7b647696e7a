import Foundation
import Logging
import MQTT
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import ServiceLifecycle

/// Runs the hub's listeners until graceful shutdown: MQTT over TLS on the MQTT port; HTTPS REST
/// and MQTT over WebSocket (`/$iothub/websocket`) on the HTTPS port. On shutdown it stops
/// accepting, closes every connection, writes what the telemetry writer holds, and closes the
/// store, so that everything acknowledged is on disk.
public struct HubService: Service {
    public let hub: Hub
    private let group: EventLoopGroup
    private let openChannels = OpenChannels()

    public init(hub: Hub, group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.hub = hub
        self.group = group
    }

    /// Services to run in one `ServiceGroup`. A group stops its services in reverse order, so
    /// the listeners stop first (their disconnects still reach the diagnostic log), and the
    /// store closes last.
    public static func services(for hub: Hub) -> [any Service] {
        [StoreService(hub: hub), DiagnosticLogService(hub: hub), MetricsService(hub: hub), AlertService(hub: hub),
         HubService(hub: hub), RetentionService(hub: hub)]
    }

    public func run() async throws {
        let tls = try NIOSSLContext(configuration: hub.certificates.serverTLSConfiguration())
        let config = hub.config
        let mqtt: Channel
        let https: Channel
        do {
            mqtt = try await bootstrap(tls: tls, pipeline: { [self] in configureMQTT($0) }).bind(host: config.bindAddress, port: config.mqttPort).get()
            https = try await bootstrap(tls: tls, pipeline: { [self] in configureHTTPS($0) }).bind(host: config.bindAddress, port: config.httpsPort).get()
        } catch {
            throw ListenError(address: config.bindAddress, mqttPort: config.mqttPort, httpsPort: config.httpsPort, underlying: error)
        }
        var plain: Channel?
        if config.mqttPlainPort > 0 {
            do {
                plain = try await bootstrap(tls: nil, pipeline: { [self] in configureMQTT($0) }).bind(host: config.bindAddress, port: config.mqttPlainPort).get()
            } catch {
                throw ListenError(address: config.bindAddress, mqttPort: config.mqttPlainPort, httpsPort: config.httpsPort, underlying: error)
            }
            hub.logger.warning("MQTT without TLS is open: SAS tokens cross the network in clear text", metadata: ["mqttPlain": "\(config.bindAddress):\(config.mqttPlainPort)"])
        }
        hub.logger.info("Outpost hub listening", metadata: [
            "host": "\(config.host)", "mqtt": "\(config.bindAddress):\(config.mqttPort)",
            "https": "\(config.bindAddress):\(config.httpsPort)", "dataDir": "\(config.dataDirectory.path)",
        ])
        try? await gracefulShutdown()
        hub.logger.info("shutting down: closing listeners and connections")
        try? await mqtt.close()
        try? await https.close()
        try? await plain?.close()
        for entry in hub.connections.all() { entry.close(.hubShuttingDown) }
        await openChannels.closeAll()
    }

    private func bootstrap(tls: NIOSSLContext?, pipeline: @escaping @Sendable (Channel) -> EventLoopFuture<Void>) -> ServerBootstrap {
        let open = openChannels
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                open.insert(channel)
                do {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
                return pipeline(channel)
            }
    }

    private func configureMQTT(_ channel: Channel) -> EventLoopFuture<Void> {
        Self.addMQTTHandlers(channel, hub: hub, transport: .mqtt)
    }

    /// The MQTT layers, the same over TCP and over WebSocket.
    static func addMQTTHandlers(_ channel: Channel, hub: Hub, transport: MQTTConnectionHandler.Transport,
                                prefix: [ChannelHandler] = []) -> EventLoopFuture<Void> {
        do {
            let sync = channel.pipeline.syncOperations
            for handler in prefix { try sync.addHandler(handler) }
            try sync.addHandler(ByteToMessageHandler(MQTTFrameDecoder()))
            try sync.addHandler(MessageToByteHandler(MQTTPacketEncoder()))
            try sync.addHandler(MQTTConnectionHandler(hub: hub, transport: transport))
            return channel.eventLoop.makeSucceededVoidFuture()
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
    }

    private func configureHTTPS(_ channel: Channel) -> EventLoopFuture<Void> {
        let hub = self.hub
        let router = RESTRouter(hub: hub)
        let storage = StorageAPI(hub: hub)
        let httpHandler = HTTPServerHandler(respond: { await router.handle($0) }, sinkFactory: { storage.uploadSink(for: $0) })
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: MQTTDecoder.defaultMaxPacketSize,
            shouldUpgrade: { channel, head in
                guard head.uri.split(separator: "?").first == "/$iothub/websocket" else {
                    return channel.eventLoop.makeSucceededFuture(nil)
                }
                var headers = HTTPHeaders()
                let offered = head.headers[canonicalForm: "Sec-WebSocket-Protocol"].map { $0.lowercased() }
                if offered.contains("mqtt") { headers.add(name: "Sec-WebSocket-Protocol", value: "mqtt") }
                return channel.eventLoop.makeSucceededFuture(headers)
            },
            upgradePipelineHandler: { channel, _ in
                HubService.addMQTTHandlers(channel, hub: hub, transport: .mqttWebSocket, prefix: [WebSocketMQTTBridge()])
            })
        return channel.pipeline.configureHTTPServerPipeline(
            withServerUpgrade: (upgraders: [upgrader], completionHandler: { context in
                context.pipeline.removeHandler(httpHandler, promise: nil)
            })
        ).flatMap { channel.pipeline.addHandler(httpHandler) }
    }
}

public struct ListenError: Error, CustomStringConvertible {
    public let address: String
    public let mqttPort: Int
    public let httpsPort: Int
    public let underlying: Error

    public var description: String {
        "cannot listen on \(address):\(mqttPort) (MQTT) and \(address):\(httpsPort) (HTTPS): \(underlying). "
            + "Another process may hold the port (ss -ltnp), the address may not be on this machine, "
            + "or ports below 1024 need root: choose others with --mqtt-port and --https-port."
    }
}

/// Owns the store's lifetime: starts the telemetry writer, and at the very end of shutdown
/// writes what it holds and closes the database, so that everything acknowledged is on disk.
struct StoreService: Service {
    let hub: Hub

    func run() async throws {
        hub.writer.start()
        hub.checkpointer?.start()
        try? await gracefulShutdown()
        hub.writer.stop()
        hub.checkpointer?.stop()
        try? hub.store.close()
        hub.logger.info("hub stopped; all acknowledged telemetry is stored")
    }
}

/// Every accepted connection until it closes, so that shutdown can close them all.
final class OpenChannels: Sendable {
    private let channels = NIOLockedValueBox<[ObjectIdentifier: Channel]>([:])

    func insert(_ channel: Channel) {
        let id = ObjectIdentifier(channel)
        channels.withLockedValue { $0[id] = channel }
        channel.closeFuture.whenComplete { [channels] _ in
            _ = channels.withLockedValue { $0.removeValue(forKey: id) }
        }
    }

    /// Closes them all at once: one by one, each TLS close would wait for its peer in turn.
    func closeAll() async {
        let all = channels.withLockedValue { Array($0.values) }
        await withTaskGroup(of: Void.self) { group in
            for channel in all { group.addTask { try? await channel.close() } }
        }
    }
}
