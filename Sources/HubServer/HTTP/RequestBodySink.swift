import NIOCore
import NIOHTTP1

/// Where the body of a request goes when it must not be gathered in memory (a blob upload can
/// be far larger than any REST body). `HTTPServerHandler` asks the sink factory at each request
/// head; a sink gets the body chunks on the event loop, then `finish` answers the request.
protocol RequestBodySink: AnyObject, Sendable {
    /// Called on the event loop for every chunk; must not block for long.
    func write(_ chunk: ByteBuffer)
    /// The body is complete: do the slow part (fsync, rename) and answer.
    func finish() async -> HTTPResponse
    /// The connection closed before the body ended.
    func abandon()
}
