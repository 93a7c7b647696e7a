import Foundation
import NIOCore
import NIOHTTP1

/// Gathers a request, hands it to `respond` (the REST router, or the metrics page) off the
/// event loop, writes the response.
/// `HTTPServerPipelineHandler` (configured before it) keeps pipelined requests in order.
final class HTTPServerHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Larger bodies than any registry or twin document are refused rather than buffered.
    static let maxBodySize = 1 << 20

    typealias Respond = @Sendable (HTTPRequest) async -> HTTPResponse
    /// Claims a request whose body should stream somewhere (a blob upload); nil leaves it to `respond`.
    typealias SinkFactory = @Sendable (HTTPRequestHead) -> RequestBodySink?
    private let respond: Respond
    private let sinkFactory: SinkFactory
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var sink: RequestBodySink?
    private var tooLarge = false
    private var streamTask: Task<Void, Never>?

    init(respond: @escaping Respond, sinkFactory: @escaping SinkFactory = { _ in nil }) {
        self.respond = respond
        self.sinkFactory = sinkFactory
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body.clear()
            tooLarge = false
            sink = sinkFactory(h)
        case .body(var chunk):
            if let sink { sink.write(chunk); return }
            if body.readableBytes + chunk.readableBytes > Self.maxBodySize { tooLarge = true } else { body.writeBuffer(&chunk) }
        case .end:
            guard let head else { return }
            self.head = nil
            if let sink {
                self.sink = nil
                let promise = context.eventLoop.makePromise(of: HTTPResponse.self)
                promise.completeWithTask { await sink.finish() }
                promise.futureResult.whenSuccess { [self] response in write(response, head: head, context: context) }
                return
            }
            if tooLarge {
                write(HubError.argumentInvalid("The request body is larger than \(Self.maxBodySize) bytes.").response, head: head, context: context)
                return
            }
            let request = HTTPRequest(head: head, body: body)
            let respond = self.respond
            let loop = context.eventLoop
            let promise = loop.makePromise(of: HTTPResponse.self)
            promise.completeWithTask { await respond(request) }
            promise.futureResult.whenSuccess { [self] response in
                write(response, head: head, context: context)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        sink?.abandon()
        sink = nil
        streamTask?.cancel()
        context.fireChannelInactive()
    }

    private func write(_ response: HTTPResponse, head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = response.headers
        let keepAlive = head.isKeepAlive
        headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        if !headers.contains(name: "Date") { headers.add(name: "Date", value: HTTPDate.now()) }
        switch response.body {
        case .bytes(let bytes):
            // A HEAD answer states the length of the body a GET would have sent.
            if !(head.method == .HEAD && headers.contains(name: "Content-Length")) {
                headers.replaceOrAdd(name: "Content-Length", value: "\(bytes.readableBytes)")
            }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))), promise: nil)
            if bytes.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil) }
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !keepAlive { done.whenComplete { _ in context.close(promise: nil) } }
        case .stream(let produce):
            // With a Content-Length (a blob download) the connection can stay open after the
            // body; without one (an event stream) the body is chunked and ends the connection.
            let sized = headers.first(name: "Content-Length") != nil
            if !sized { headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked") }
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))), promise: nil)
            let channel = context.channel
            streamTask = Task {
                var complete = true
                do { try await produce(HTTPStreamWriter(channel: channel)) } catch { complete = false }
                try? await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
                if !sized || !complete || !keepAlive { try? await channel.close() }
            }
        }
    }
}
