import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Twin

/// HTTP over the daemon's unix sockets (`unix:///path`): the management API (modules) and the
/// workload API (signing, trust bundle, certificates), with edgelet's paths. Shared by the
/// system modules.
public struct EdgeAPIClient: Sendable {
    public let http: HTTPClient
    public let socketPath: String

    public init(http: HTTPClient, uri: String) throws {
        guard uri.hasPrefix("unix://") else { throw EdgeModuleError("\(uri) is not a unix:// URI") }
        self.http = http
        self.socketPath = String(uri.dropFirst("unix://".count))
    }

    public func call(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil, timeout: TimeAmount = .seconds(30)) async throws -> JSONValue {
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
            // The daemon's {"message": …} says what is wrong and what to do: keep all of it.
            let message = (try? JSONValue(parsing: text))?["message"]?.stringValue ?? String(text.prefix(2000))
            throw EdgeModuleError("\(method.rawValue) \(path) answered \(response.status.code): \(message)")
        }
        return text.isEmpty ? .null : ((try? JSONValue(parsing: text)) ?? .string(text))
    }

    /// The raw body of a GET (logs as text, a support bundle's zip), up to `limit` bytes.
    public func bytes(_ path: String, limit: Int = 256 << 20, timeout: TimeAmount = .seconds(300)) async throws -> [UInt8] {
        let encodedSocket = socketPath.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? socketPath
        let separator = path.contains("?") ? "&" : "?"
        var request = HTTPClientRequest(url: "http+unix://\(encodedSocket)\(path)\(separator)api-version=2020-07-07")
        request.method = .GET
        let response = try await http.execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: limit)
        guard (200..<300).contains(response.status.code) else {
            throw EdgeModuleError("GET \(path) answered \(response.status.code): \(String(buffer: body).prefix(300))")
        }
        return Array(buffer: body)
    }

    public static func segment(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }
}

/// A module's own failure, with the sentence to log.
public struct EdgeModuleError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The workload API as a module uses it: its trust bundle, signatures with its key, and (for
/// edgeHub) a server certificate.
public struct WorkloadClient: Sendable {
    public let api: EdgeAPIClient
    public let moduleID: String
    public let generationID: String

    public init(api: EdgeAPIClient, moduleID: String, generationID: String) {
        self.api = api
        self.moduleID = moduleID
        self.generationID = generationID
    }

    private var base: String { "/modules/\(EdgeAPIClient.segment(moduleID))/genid/\(EdgeAPIClient.segment(generationID))" }

    public func trustBundle() async throws -> String {
        guard let pem = try await api.call(.GET, "/trust-bundle")["certificate"]?.stringValue else {
            throw EdgeModuleError("the workload API returned no trust bundle")
        }
        return pem
    }

    /// HMAC-SHA256 of `text` with the module's key, base64.
    public func sign(_ text: String) async throws -> String {
        let answer = try await api.call(.POST, "\(base)/sign", body: ["keyId": "primary", "algo": "HMACSHA256",
                                                                     "data": .string(Data(text.utf8).base64EncodedString())])
        guard let digest = answer["digest"]?.stringValue else { throw EdgeModuleError("the workload API returned no digest") }
        return digest
    }

    /// A SAS token for `resource`, signed by the daemon.
    public func sasToken(resource: String, lifetime: TimeInterval = 3600) async throws -> String {
        let expiry = Int64(Date().timeIntervalSince1970 + lifetime)
        let encoded = resource.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? resource
        let signature = try await sign("\(encoded)\n\(expiry)")
        let sig = signature.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? signature
        return "SharedAccessSignature sr=\(encoded)&sig=\(sig)&se=\(expiry)"
    }

    /// A server certificate for `commonName` from the edge CA: (certificate chain PEM, key PEM).
    public func serverCertificate(commonName: String, days: Int = 90) async throws -> (certificate: String, key: String) {
        let expiration = Date().addingTimeInterval(Double(days) * 86_400).formatted(Date.ISO8601FormatStyle())
        let answer = try await api.call(.POST, "\(base)/certificate/server",
                                        body: ["commonName": .string(commonName), "expiration": .string(expiration)])
        guard let cert = answer["certificate"]?.stringValue, let key = answer["privateKey"]?["bytes"]?.stringValue else {
            throw EdgeModuleError("the workload API returned no server certificate")
        }
        return (cert, key)
    }
}
