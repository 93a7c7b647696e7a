import MQTT
import NIOCore

/// One MQTT client connection of the load generator: sends CONNECT when the socket opens,
/// completes `connected` on CONNACK, pings for keep-alive, and hands every later packet to the
/// scenario's closure. Everything runs on the channel's event loop. Writes are flushed once per
/// read burst (`channelReadComplete`) unless the caller asks otherwise, as a broker would.
final class MQTTClient: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = MQTTPacket
    typealias OutboundOut = MQTTPacket

    struct Refused: Error, CustomStringConvertible {
        var code: ConnAck.ReturnCode
        var description: String { "CONNACK \(code.rawValue) (\(code))" }
    }

    struct ClosedBeforeConnAck: Error, CustomStringConvertible {
        var description: String { "connection closed before CONNACK" }
    }

    let connectPacket: Connect
    let connected: EventLoopPromise<Void>
    var onPacket: ((MQTTPacket) -> Void)?
    var onReadComplete: (() -> Void)?
    var onWritable: (() -> Void)?
    var onClose: (() -> Void)?
    private(set) var context: ChannelHandlerContext?
    private var isConnected = false
    private var pinger: RepeatedTask?
    private var needsFlush = false

    init(connect: Connect, loop: EventLoop) {
        self.connectPacket = connect
        self.connected = loop.makePromise()
    }

    /// Kept apart from `context`, which may only be touched on the event loop.
    private(set) var channel: Channel?
    var isWritable: Bool { channel?.isWritable ?? false }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        channel = context.channel
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(.connect(connectPacket)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let packet = unwrapInboundIn(data)
        if !isConnected, case .connack(let ack) = packet {
            guard ack.returnCode == .accepted else {
                connected.fail(Refused(code: ack.returnCode))
                context.close(promise: nil)
                return
            }
            isConnected = true
            startPinging(context)
            connected.succeed(())
            return
        }
        if case .pingresp = packet { return }
        onPacket?(packet)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        onReadComplete?()
        flushIfNeeded()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { onWritable?() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        pinger?.cancel()
        if !isConnected { connected.fail(ClosedBeforeConnAck()) }
        onClose?()
        // The scenario's closures hold their publisher, which holds this client: let go.
        onPacket = nil
        onReadComplete = nil
        onWritable = nil
        onClose = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if !isConnected { connected.fail(error) }
        context.close(promise: nil)
    }

    /// Queues a packet; it leaves at the next flush (end of the current read burst, or `flush()`).
    func write(_ packet: MQTTPacket) {
        guard let context else { return }
        context.write(wrapOutboundOut(packet), promise: nil)
        needsFlush = true
    }

    func flushIfNeeded() {
        guard needsFlush, let context else { return }
        needsFlush = false
        context.flush()
    }

    func close() {
        guard let context else { return }
        if isConnected { context.writeAndFlush(wrapOutboundOut(.disconnect), promise: nil) }
        context.close(promise: nil)
    }

    private func startPinging(_ context: ChannelHandlerContext) {
        let seconds = Int64(connectPacket.keepAliveSeconds)
        guard seconds > 0 else { return }
        pinger = context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(seconds), delay: .seconds(seconds)) { [weak self] _ in
            guard let self, let context = self.context else { return }
            context.writeAndFlush(self.wrapOutboundOut(.pingreq), promise: nil)
        }
    }
}
