import EdgeDaemon
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// A TCP connection and TLS handshake to a hub port, as edgelet's `host-connect-iothub-*`
/// checks make: the hub's certificate must chain to the trust bundle and name the host.
public enum TLSProbe {
    public enum Outcome: Equatable, Sendable {
        case handshake(milliseconds: Int)
        /// Nothing listens: the port is closed or a firewall rejects it.
        case refused
        /// No answer within the time allowed: a firewall drops it, or the host is down.
        case timedOut
        /// The connection was made but TLS failed (untrusted certificate, wrong name, not TLS).
        case tlsFailed(String)
        case failed(String)

        public var isHandshake: Bool { if case .handshake = self { return true } else { return false } }
    }

    public static func handshake(host: String, port: Int, trustPEM: String?, timeout: Double) async -> Outcome {
        let started = NIODeadline.now()
        var tls = TLSConfiguration.makeClientConfiguration()
        if let trustPEM {
            do { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(trustPEM.utf8))) } catch {
                return .failed("the trust bundle cannot be read as PEM: \(error)")
            }
        }
        let context: NIOSSLContext
        do { context = try NIOSSLContext(configuration: tls) } catch { return .failed("cannot set up TLS: \(error)") }
        let group = MultiThreadedEventLoopGroup.singleton
        let loop = group.next()
        let done = loop.makePromise(of: Void.self)
        // SNI takes names only; for an IP the certificate is checked against the address.
        let sni = Hostname.isIPAddress(host) ? nil : host
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.milliseconds(Int64(timeout * 1000)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: sni))
                    try channel.pipeline.syncOperations.addHandler(HandshakeWatcher(done: done))
                }
            }
        let channel: Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            done.fail(error)
            return classify(error, connecting: true)
        }
        let timer = loop.scheduleTask(deadline: started + .milliseconds(Int64(timeout * 1000))) {
            done.fail(ChannelError.connectTimeout(.milliseconds(Int64(timeout * 1000))))
        }
        defer { timer.cancel(); channel.close(promise: nil) }
        do {
            try await done.futureResult.get()
            return .handshake(milliseconds: Int((NIODeadline.now() - started).nanoseconds / 1_000_000))
        } catch {
            return classify(error, connecting: false)
        }
    }

    static func classify(_ error: Error, connecting: Bool) -> Outcome {
        let text = "\(error)"
        if case ChannelError.connectTimeout = error { return .timedOut }
        if text.contains("connectTimeout") { return .timedOut }
        if text.contains("connection refused") || text.contains("Connection refused") || text.contains("ECONNREFUSED") { return .refused }
        if connecting { return .failed(text) }
        return .tlsFailed(text)
    }

    /// Fulfils `done` when the handshake completes, fails it on the first error or close.
    private final class HandshakeWatcher: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let done: EventLoopPromise<Void>
        init(done: EventLoopPromise<Void>) { self.done = done }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls { done.succeed(()) }
            context.fireUserInboundEventTriggered(event)
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) { done.fail(error) }

        func channelInactive(context: ChannelHandlerContext) {
            done.fail(ProbeError("the hub closed the connection during the TLS handshake"))
            context.fireChannelInactive()
        }
    }
}
