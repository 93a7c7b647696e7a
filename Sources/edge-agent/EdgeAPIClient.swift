import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Twin

/// HTTP over the daemon's unix sockets (`unix:///path`): the management API (modules) and the
/// workload API (signing, trust bundle), with edgelet's paths.
struct EdgeAPIClient: Sendable {
    let http: HTTPClient
    let socketPath: String

    init(http: HTTPClient, uri: String) throws {
        guard uri.hasPrefix("unix://") else { throw AgentError("\(uri) is not a unix:// URI") }
        self.http = http
        self.socketPath = String(uri.dropFirst("unix://".count))
    }

    func call(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil, timeout: TimeAmount = .seconds(30)) async throws -> JSONValue {
        let encodedSocket = socketPath.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? socketPath
        let separator = path.contains("?") ? "&" : "?"
        var request = HTTPClientRequest(url: "http+unix://\(encodedSocket)\(path)\(separator)api-version=2020-07-07")
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body.jsonText))
        }
        let response = try await http.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 16 << 20)
        let text = String(buffer: bytes)
        guard (200..<300).contains(response.status.code) else {
            throw AgentError("\(method.rawValue) \(path) answered \(response.status.code): \(text.prefix(300))")
        }
        return text.isEmpty ? .null : ((try? JSONValue(parsing: text)) ?? .string(text))
    }

    static func segment(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }
}

struct AgentError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
