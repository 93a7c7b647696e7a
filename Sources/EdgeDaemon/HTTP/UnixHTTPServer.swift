#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// HTTP/1.1 on a unix domain socket, as edgelet serves its management and workload APIs.
/// Each connection learns its peer's pid (SO_PEERCRED) before the first request is read.
public final class UnixHTTPServer: @unchecked Sendable {
    public let socketPath: String
    private let handler: EdgeHTTPHandler
    private let group: EventLoopGroup
    private var channel: Channel?
    private let logger: Logger

    public init(socketPath: String, handler: EdgeHTTPHandler, group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger = Logger(label: "iotedged.http")) {
        self.socketPath = socketPath
        self.handler = handler
        self.group = group
        self.logger = logger
    }

    /// Binds the socket (replacing a stale socket file) with `mode` (0660 for management:
    /// the owner and its group; 0666 for workload: any module's user).
    public func start(mode: mode_t = 0o660) async throws {
        try FileIO.makeDirectories(FileIO.dirname(of: socketPath))
        let handler = self.handler
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .childChannelInitializer { channel in
                Self.peerPID(of: channel).flatMap { pid in
                    channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMap {
                        channel.pipeline.addHandler(EdgeHTTPConnectionHandler(handler: handler, peerPID: pid))
                    }
                }
            }
        let channel = try await bootstrap.bind(unixDomainSocketPath: socketPath, cleanupExistingSocketFile: true).get()
        chmod(socketPath, mode)
        self.channel = channel
    }

    public func stop() async {
        try? await channel?.close()
        channel = nil
        unlink(socketPath)
    }

    /// The pid of the process at the other end of a unix socket, or nil.
    static func peerPID(of channel: Channel) -> EventLoopFuture<Int32?> {
        guard let provider = channel as? SocketOptionProvider else { return channel.eventLoop.makeSucceededFuture(nil) }
        #if os(Linux)
        let future: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return future.map { creds -> Int32? in creds.pid > 0 ? creds.pid : nil }.recover { _ in nil }
        #else
        return channel.eventLoop.makeSucceededFuture(nil)
        #endif
    }
}

/// Gathers a request, hands it to the router off the event loop, writes the answer; a
/// streamed answer is written line by line, each write waiting for the previous one.
final class EdgeHTTPConnectionHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let maxBodySize = 1 << 20

    private let handler: EdgeHTTPHandler
    private let peerPID: Int32?
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false
    private var streamTask: Task<Void, Never>?

    init(handler: EdgeHTTPHandler, peerPID: Int32?) {
        self.handler = handler
        self.peerPID = peerPID
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body.removeAll()
            tooLarge = false
        case .body(let chunk):
            if body.count + chunk.readableBytes > Self.maxBodySize { tooLarge = true } else { body += chunk.readableBytesView }
        case .end:
            guard let head else { return }
            self.head = nil
            if tooLarge {
                write(.error(.payloadTooLarge, "The request body is larger than \(Self.maxBodySize) bytes."), head: head, context: context)
                return
            }
            let request = EdgeRequest(method: head.method, uri: head.uri, headers: head.headers, body: body, peerPID: peerPID)
            let handler = self.handler
            let promise = context.eventLoop.makePromise(of: EdgeResponse.self)
            promise.completeWithTask { await handler.handle(request) }
            promise.futureResult.whenSuccess { [self] response in
                write(response, head: head, context: context)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        streamTask?.cancel()
        context.fireChannelInactive()
    }

    private func write(_ response: EdgeResponse, head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = response.headers
        let keepAlive = head.isKeepAlive
        headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        switch response.body {
        case .bytes(let bytes):
            headers.replaceOrAdd(name: "Content-Length", value: "\(bytes.count)")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))), promise: nil)
            if !bytes.isEmpty { context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: bytes)))), promise: nil) }
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !keepAlive { done.whenComplete { _ in context.close(promise: nil) } }
        case .lines(let lines):
            headers.remove(name: "Content-Length")
            headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked")
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))), promise: nil)
            let channel = context.channel
            streamTask = Task {
                // One line a write: a follower sees each line as it comes, and a slow reader
                // holds the log reader back instead of filling memory.
                for await line in lines {
                    guard channel.isActive else { return }
                    var buffer = ByteBuffer()
                    buffer.writeString(line)
                    buffer.writeInteger(UInt8(ascii: "\n"))
                    do { try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer))).get() } catch { return }
                }
                try? await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
                if !keepAlive { try? await channel.close() }
            }
        }
    }
}

/// Linux's `struct ucred` (pid, uid, gid), which the Glibc module does not import without
/// _GNU_SOURCE; the layout is the kernel's.
struct PeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}
