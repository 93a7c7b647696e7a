import Foundation
import IoTProtocol
import MQTT
import NIOCore
import NIOPosix
import NIOSSL

/// Opens device connections to the target: TCP or TLS, from the configured source addresses in
/// turn, with the CONNECT each broker expects (a SAS token for Outpost, nothing for Mosquitto).
final class Dialer: @unchecked Sendable {
    static let apiVersion = "2021-04-12"
    let target: BenchTarget
    let group: MultiThreadedEventLoopGroup
    private let tls: NIOSSLContext?
    private let sources: [SocketAddress]
    private var nextSource = 0
    /// Devices sign with this key; the bench registers it as each device's primary key.
    let deviceKey: String

    init(target: BenchTarget, deviceKey: String) throws {
        self.target = target
        self.deviceKey = deviceKey
        group = MultiThreadedEventLoopGroup(numberOfThreads: target.threads)
        if let pem = target.caPEM {
            var config = TLSConfiguration.makeClientConfiguration()
            do { config.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8))) } catch {
                throw BenchError("the CA file is not PEM certificates: \(error)")
            }
            tls = try NIOSSLContext(configuration: config)
        } else {
            tls = nil
        }
        sources = try target.sourceAddresses.map { address in
            do { return try SocketAddress(ipAddress: address, port: 0) } catch {
                throw BenchError("--source-address \(address) is not an IP address")
            }
        }
    }

    func shutdown() async { try? await group.shutdownGracefully() }

    func connectPacket(clientID: String, keepAlive: UInt16) -> Connect {
        switch target.auth {
        case .anonymous:
            return Connect(cleanSession: true, keepAliveSeconds: keepAlive, clientID: clientID)
        case .sas:
            let hub = target.hubName
            let expiry = Int64(Date().timeIntervalSince1970) + 86_400
            let token = SASToken(resource: "\(hub)/devices/\(clientID)", key: deviceKey, expiry: expiry)
            return Connect(cleanSession: true, keepAliveSeconds: keepAlive, clientID: clientID,
                           username: "\(hub)/\(clientID)/?api-version=\(Self.apiVersion)",
                           password: Array((token?.text ?? "").utf8))
        }
    }

    /// Connects one client; the future completes on CONNACK. `configure` runs before the socket
    /// opens, so that the scenario sees every packet.
    func connect(_ connect: Connect, configure: @escaping (MQTTClient) -> Void = { _ in }) -> EventLoopFuture<MQTTClient> {
        let loop = group.next()
        let client = MQTTClient(connect: connect, loop: loop)
        configure(client)
        let sni = Self.isIPAddress(target.host) ? nil : target.host
        var bootstrap = ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(30))
            .channelInitializer { [tls] channel in
                do {
                    let sync = channel.pipeline.syncOperations
                    if let tls { try sync.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: sni)) }
                    try sync.addHandler(ByteToMessageHandler(MQTTFrameDecoder()))
                    try sync.addHandler(MessageToByteHandler(MQTTPacketEncoder()))
                    try sync.addHandler(client)
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        if !sources.isEmpty {
            bootstrap = bootstrap.bind(to: sources[nextSource % sources.count])
            nextSource += 1
        }
        return bootstrap.connect(host: target.host, port: target.port)
            .flatMap { _ in client.connected.futureResult }
            .map { client }
    }

    static func isIPAddress(_ s: String) -> Bool {
        (try? SocketAddress(ipAddress: s, port: 0)) != nil
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ text: String) { description = text }
}
