import MQTT
import NIOCore
import NIOTLS

/// One live connection, whatever its transport: packets out through `send`, packets in through
/// `packets`, which ends when the connection closes (with the error that closed it, if any).
/// It never interprets a packet; `ClientSession` does.
final class MQTTClientConnection: Sendable {
    let channel: Channel
    let packets: AsyncThrowingStream<MQTTPacket, Error>

    init(channel: Channel, packets: AsyncThrowingStream<MQTTPacket, Error>) {
        self.channel = channel
        self.packets = packets
    }

    /// Writes in call order: NIO runs writes from other threads in the order they were issued.
    func send(_ packet: MQTTPacket) {
        channel.writeAndFlush(packet, promise: nil)
    }

    func close() {
        channel.close(promise: nil)
    }

    var remoteAddress: String { channel.remoteAddress?.description ?? "unknown" }
}

/// The last handler of a client pipeline: hands decoded packets to an async stream, and ends
/// the stream with the first error seen when the channel goes inactive.
final class PacketStreamHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = MQTTPacket

    private let continuation: AsyncThrowingStream<MQTTPacket, Error>.Continuation
    private var firstError: Error?

    init(continuation: AsyncThrowingStream<MQTTPacket, Error>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        continuation.yield(unwrapInboundIn(data))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if firstError == nil { firstError = error }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish(throwing: firstError)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        continuation.finish(throwing: firstError)
    }
}

/// Fulfils `ready` when the TLS handshake completes, or fails it with the error (or the close)
/// that came first. For MQTT over TLS this is the moment CONNECT may be sent.
final class TLSReadyHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny

    private let ready: EventLoopPromise<Void>
    private var done = false

    init(ready: EventLoopPromise<Void>) { self.ready = ready }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event { finish(.success(())) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        finish(.failure(error))
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(ConnectionClosedDuringSetup()))
        context.fireChannelInactive()
    }

    private func finish(_ result: Result<Void, Error>) {
        guard !done else { return }
        done = true
        ready.completeWith(result)
    }
}

/// The connection closed before TLS (or the WebSocket upgrade) completed.
struct ConnectionClosedDuringSetup: Error, CustomStringConvertible {
    var description: String { "the server closed the connection during setup" }
}
