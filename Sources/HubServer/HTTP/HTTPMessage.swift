import Foundation
import IoTProtocol
import NIOCore
import NIOHTTP1

/// A complete REST request, after the body was gathered.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    public var path: String
    /// Path segments, percent-decoded (`/devices/a%2Fb` is `["devices", "a/b"]`).
    public var segments: [String]
    public var query: [String: String]
    public var headers: HTTPHeaders
    public var body: ByteBuffer

    public init(head: HTTPRequestHead, body: ByteBuffer) {
        method = head.method
        headers = head.headers
        self.body = body
        let uri = head.uri
        let q = uri.firstIndex(of: "?")
        path = String(q.map { uri[..<$0] } ?? uri[...])
        segments = path.split(separator: "/").map { PercentEncoding.lenientDecode($0) }
        var query: [String: String] = [:]
        if let q {
            for pair in uri[uri.index(after: q)...].split(separator: "&") {
                let eq = pair.firstIndex(of: "=")
                let k = PercentEncoding.lenientDecode(eq.map { pair[..<$0] } ?? pair, plusAsSpace: true)
                query[k] = eq.map { PercentEncoding.lenientDecode(pair[pair.index(after: $0)...], plusAsSpace: true) } ?? ""
            }
        }
        self.query = query
    }

    public var bodyData: Data { Data(body.readableBytesView) }

    /// The `If-Match` ETag with its quotes removed; `*` stays `*`.
    public var ifMatch: String? {
        guard let raw = headers.first(name: "If-Match")?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
        var v = Substring(raw)
        if v.hasPrefix("W/") { v = v.dropFirst(2) }
        if v.hasPrefix("\"") && v.hasSuffix("\"") && v.count >= 2 { v = v.dropFirst().dropLast() }
        return String(v)
    }
}

extension PercentEncoding {
    /// Decodes, keeping the text as it came when an escape is broken.
    static func lenientDecode(_ s: Substring, plusAsSpace: Bool = false) -> String {
        decode(s, plusAsSpace: plusAsSpace) ?? String(s)
    }
}

/// A REST response: a complete body, or a stream that writes chunks until it returns.
public struct HTTPResponse: Sendable {
    public enum Body: Sendable {
        case bytes(ByteBuffer)
        case stream(@Sendable (HTTPStreamWriter) async throws -> Void)
    }

    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: Body

    public init(status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:], body: Body = .bytes(ByteBuffer())) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON body from a JSON-serialisable value (`[String: Any]`, arrays of them).
    public static func json(_ value: Any, status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:]) -> HTTPResponse {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("null".utf8)
        var h = headers
        h.replaceOrAdd(name: "Content-Type", value: "application/json; charset=utf-8")
        return HTTPResponse(status: status, headers: h, body: .bytes(ByteBuffer(bytes: data)))
    }

    public static func encodable<T: Encodable>(_ value: T, status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:]) -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("null".utf8)
        var h = headers
        h.replaceOrAdd(name: "Content-Type", value: "application/json; charset=utf-8")
        return HTTPResponse(status: status, headers: h, body: .bytes(ByteBuffer(bytes: data)))
    }
}

/// Writes chunks of a streaming response; each write waits until NIO has taken the bytes,
/// so a slow reader slows the stream rather than growing a buffer.
public struct HTTPStreamWriter: Sendable {
    let channel: Channel

    public func write(_ buffer: ByteBuffer) async throws {
        try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer))).get()
    }

    public var isActive: Bool { channel.isActive }
}
