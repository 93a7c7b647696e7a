import IoTProtocol
import NIOCore
import NIOHTTP1

/// A request on one of the daemon's sockets, with who sent it: the pid of the process that
/// connected (SO_PEERCRED), which the workload API checks against the module's main process.
public struct EdgeRequest: Sendable {
    public var method: HTTPMethod
    public var path: String
    /// Path segments, percent-decoded (`/modules/%24edgeHub/…` has `$edgeHub`).
    public var segments: [String]
    public var query: [String: String]
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The connecting process, or nil when the socket could not tell.
    public var peerPID: Int32?

    public init(method: HTTPMethod, uri: String, headers: HTTPHeaders = [:], body: [UInt8] = [], peerPID: Int32? = nil) {
        self.method = method
        self.headers = headers
        self.body = body
        self.peerPID = peerPID
        let q = uri.firstIndex(of: "?")
        path = String(q.map { uri[..<$0] } ?? uri[...])
        segments = path.split(separator: "/").map { PercentEncoding.decode($0) ?? String($0) }
        var query: [String: String] = [:]
        if let q {
            for pair in uri[uri.index(after: q)...].split(separator: "&") {
                let eq = pair.firstIndex(of: "=")
                let k = eq.map { pair[..<$0] } ?? pair
                let v = eq.map { pair[pair.index(after: $0)...] } ?? ""
                query[PercentEncoding.decode(k, plusAsSpace: true) ?? String(k)] = PercentEncoding.decode(v, plusAsSpace: true) ?? String(v)
            }
        }
        self.query = query
    }
}

/// A response: a whole body, or lines streamed (chunked) until the sequence ends or the client
/// goes away.
public struct EdgeResponse: Sendable {
    public enum Body: Sendable {
        case bytes([UInt8])
        case lines(LogLines)
    }

    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: Body

    public init(status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:], body: Body = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func json<T: Encodable>(_ value: T, status: HTTPResponseStatus = .ok) -> EdgeResponse {
        let bytes = (try? JSONText.encode(value)) ?? Array("null".utf8)
        return EdgeResponse(status: status, headers: ["Content-Type": "application/json"], body: .bytes(bytes))
    }

    /// `{"message": "…"}`, edgelet's error body.
    public static func error(_ status: HTTPResponseStatus, _ message: String) -> EdgeResponse {
        json(["message": message], status: status)
    }

    public static var noContent: EdgeResponse { EdgeResponse(status: .noContent) }

    /// The body as text, for tests.
    public var text: String {
        if case .bytes(let b) = body { return String(decoding: b, as: UTF8.self) }
        return ""
    }
}

/// A router: the management and workload APIs each are one.
public protocol EdgeHTTPHandler: Sendable {
    func handle(_ request: EdgeRequest) async -> EdgeResponse
}
