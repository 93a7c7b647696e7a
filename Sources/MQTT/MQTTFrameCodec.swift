import NIOCore

/// Frames the inbound byte stream into packets; NIO's `ByteToMessageHandler` owns the buffering.
public struct MQTTFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = MQTTPacket
    public let maxPacketSize: Int

    public init(maxPacketSize: Int = MQTTDecoder.defaultMaxPacketSize) {
        self.maxPacketSize = maxPacketSize
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let packet = try MQTTDecoder.decode(from: &buffer, maxPacketSize: maxPacketSize) else {
            return .needMoreData
        }
        context.fireChannelRead(wrapInboundOut(packet))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Serialises outbound packets.
public struct MQTTPacketEncoder: MessageToByteEncoder {
    public typealias OutboundIn = MQTTPacket
    public init() {}
    public func encode(data: MQTTPacket, out: inout ByteBuffer) throws {
        MQTTEncoder.encode(data, into: &out)
    }
}
