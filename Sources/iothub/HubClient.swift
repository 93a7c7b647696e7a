import AsyncHTTPClient
import Foundation
import IoTProtocol
import NIOCore
import NIOHTTP1
import NIOSSL

/// A small REST client of the hub for the admin commands: signs each request with the policy
/// key and turns the hub's error bodies into readable errors.
struct HubClient {
    let login: HubLogin.Resolved
    let http: HTTPClient

    init(_ login: HubLogin.Resolved) throws {
        self.login = login
        var tls = TLSConfiguration.makeClientConfiguration()
        if let pem = login.caPEM {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))
        }
        var config = HTTPClient.Configuration(tlsConfiguration: tls)
        config.timeout.connect = .seconds(10)
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    func shutdown() async { try? await http.shutdown() }

    var baseURL: String { "https://\(login.host):\(login.httpsPort)" }

    private func authorization() -> String {
        let cs = login.connectionString
        let expiry = Int64(Date().timeIntervalSince1970) + 3600
        let token = SASToken(resource: cs.hostName, key: cs.sharedAccessKey ?? "", expiry: expiry, keyName: cs.sharedAccessKeyName)
        return token?.text ?? ""
    }

    func request(_ method: HTTPMethod, _ path: String, body: Data? = nil, headers: [(String, String)] = [],
                 timeout: TimeAmount = .seconds(30)) async throws -> (HTTPResponseStatus, HTTPHeaders, Data) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: authorization())
        request.headers.add(name: "Accept", value: "application/json")
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        do { response = try await http.execute(request, timeout: timeout) } catch {
            throw CLIError("cannot reach the hub at \(baseURL): \(error). Is `iothub serve` running?")
        }
        let bytes = try await response.body.collect(upTo: 64 << 20)
        let data = Data(bytes.readableBytesView)
        guard (200..<300).contains(response.status.code) else { throw Self.error(response.status, data) }
        return (response.status, response.headers, data)
    }

    /// Streams a response body line by line until `onLine` returns false or the stream ends.
    func streamLines(_ path: String, onLine: (String) async throws -> Bool) async throws {
        var request = HTTPClientRequest(url: baseURL + path)
        request.headers.add(name: "Authorization", value: authorization())
        let response: HTTPClientResponse
        do { response = try await http.execute(request, timeout: .hours(24 * 365)) } catch {
            throw CLIError("cannot reach the hub at \(baseURL): \(error). Is `iothub serve` running?")
        }
        guard response.status == .ok else {
            let bytes = try await response.body.collect(upTo: 1 << 20)
            throw Self.error(response.status, Data(bytes.readableBytesView))
        }
        var pending = [UInt8]()
        for try await chunk in response.body {
            pending.append(contentsOf: chunk.readableBytesView)
            while let nl = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<nl], as: UTF8.self)
                pending.removeSubrange(...nl)
                if try await !onLine(line) { return }
            }
        }
    }

    func json(_ method: HTTPMethod, _ path: String, body: Any? = nil, headers: [(String, String)] = []) async throws -> Any {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let (_, _, out) = try await request(method, path, body: data, headers: headers)
        if out.isEmpty { return NSNull() }
        return try JSONSerialization.jsonObject(with: out)
    }

    static func error(_ status: HTTPResponseStatus, _ data: Data) -> CLIError {
        if let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let message = obj["Message"] as? String {
            // "ErrorCode:DeviceNotFound;Device 'x' not found."
            var text = message
            if message.hasPrefix("ErrorCode:"), let semi = message.firstIndex(of: ";") {
                let name = message[message.index(message.startIndex, offsetBy: 10)..<semi]
                let code = (obj["errorCode"] as? Int).map { " \($0)" } ?? ""
                text = "\(name)\(code): \(message[message.index(after: semi)...])"
            }
            return CLIError(text)
        }
        return CLIError("the hub answered \(status.code) \(status.reasonPhrase)")
    }

    static func path(_ segments: String...) -> String {
        "/" + segments.map { PercentEncoding.encode($0) }.joined(separator: "/") + "?api-version=2021-04-12"
    }
}

extension HubLogin {
    /// Runs `body` with a client, always shutting it down.
    func withClient<T>(_ body: (HubClient) async throws -> T) async throws -> T {
        let client = try HubClient(resolve())
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }
}
