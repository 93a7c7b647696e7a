import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Sends the WebSocket upgrade request (`GET /$iothub/websocket`, subprotocol `mqtt`) once the
/// connection is up, and fails `ready` when the server answers anything but 101 or the
/// connection breaks first. `NIOHTTPClientUpgradeHandler` adds the `Upgrade`, `Connection` and
/// key headers and checks `Sec-WebSocket-Accept`.
final class WebSocketUpgradeRequester: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    static let path = "/$iothub/websocket"

    private let host: String
    private let ready: EventLoopPromise<Void>
    private var done = false

    init(host: String, port: Int, ready: EventLoopPromise<Void>) {
        self.host = port == 443 ? host : (host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
        self.ready = ready
    }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        headers.add(name: "Sec-WebSocket-Protocol", value: "mqtt")
        headers.add(name: "Content-Length", value: "0")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: Self.path, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let response) = unwrapInboundIn(data) {
            fail(WebSocketUpgradeRefused(reason: "HTTP \(response.status.code) \(response.status.reasonPhrase)"))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let upgrade = error as? NIOHTTPClientUpgradeError {
            fail(WebSocketUpgradeRefused(reason: "\(upgrade) (a missing or wrong Sec-WebSocket-Accept, or no Upgrade header)"))
        } else {
            fail(error)
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(ConnectionClosedDuringSetup())
        context.fireChannelInactive()
    }

    /// The upgrade succeeded and the MQTT handlers are in place.
    func succeed() {
        guard !done else { return }
        done = true
        ready.succeed(())
    }

    private func fail(_ error: Error) {
        guard !done else { return }
        done = true
        ready.fail(error)
    }
}

struct WebSocketUpgradeRefused: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}

/// MQTT over WebSocket, client side: the MQTT byte stream goes out in binary frames, masked as
/// RFC 6455 requires of a client; incoming binary (and continuation) frames are unwrapped into
/// bytes for the MQTT decoder, a packet may span frames or share one. Pings are answered and a
/// close is echoed.
final class WebSocketClientBridge: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = WebSocketFrame

    private var closeSent = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .binary, .continuation, .text:
            context.fireChannelRead(wrapInboundOut(frame.unmaskedData))
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            guard !closeSent else { context.close(promise: nil); return }
            closeSent = true
            let reply = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(reply)).whenComplete { _ in context.close(promise: nil) }
        default:
            break
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let frame = WebSocketFrame(fin: true, opcode: .binary, maskKey: .random(), data: unwrapOutboundIn(data))
        context.write(wrapOutboundOut(frame), promise: promise)
    }
}
