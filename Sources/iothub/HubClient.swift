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

    func authorization() -> String {
        let cs = login.connectionString
        let expiry = Int64(Date().timeIntervalSince1970) + 3600
        let token = SASToken(resource: cs.hostName, key: cs.sharedAccessKey ?? "", expiry: expiry, keyName: cs.sharedAccessKeyName)
        return token?.text ?? ""
    }

    /// `contentType` is for raw bodies (a cloud-to-device message's payload); `timeout` bounds the
    /// whole exchange, so a direct method passes more than its own response timeout.
    func request(_ method: HTTPMethod, _ path: String, body: Data? = nil, headers: [(String, String)] = [],
                 contentType: String = "application/json; charset=utf-8",
                 timeout: TimeAmount = .seconds(30)) async throws -> (HTTPResponseStatus, HTTPHeaders, Data) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: authorization())
        request.headers.add(name: "Accept", value: "application/json")
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        do { response = try await http.execute(request, timeout: timeout) } catch {
            throw CLIError("cannot reach the hub at \(baseURL): \(error). Is `iothub serve` running?")
        }
        let bytes = try await response.body.collect(upTo: 64 << 20)
        let data = Data(bytes.readableBytesView)
        guard (200..<300).contains(response.status.code) else { throw Self.error(response.status, data, response.headers) }
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
            throw Self.error(response.status, Data(bytes.readableBytesView), response.headers)
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

    func json(_ method: HTTPMethod, _ path: String, body: Any? = nil, headers: [(String, String)] = [],
              timeout: TimeAmount = .seconds(30)) async throws -> Any {
        try await jsonWithHeaders(method, path, body: body, headers: headers, timeout: timeout).0
    }

    /// The answer and its headers, for the calls that read ETag or continuation tokens.
    func jsonWithHeaders(_ method: HTTPMethod, _ path: String, body: Any? = nil, headers: [(String, String)] = [],
                         timeout: TimeAmount = .seconds(30)) async throws -> (Any, HTTPHeaders) {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0, options: [.fragmentsAllowed, .sortedKeys]) }
        let (_, responseHeaders, out) = try await request(method, path, body: data, headers: headers, timeout: timeout)
        return (try Self.decode(out), responseHeaders)
    }

    static func decode(_ data: Data) throws -> Any {
        if data.isEmpty { return NSNull() }
        do { return try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
            throw CLIError("the hub's answer is not JSON: \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
    }

    /// The hub's error (`{"Message":"ErrorCode:Name;text"}`, the number in `errorCode` or implied
    /// by the `iothub-errorcode` header) as "Name 404103: text", plus what to do for the codes a
    /// user can act on.
    static func error(_ status: HTTPResponseStatus, _ data: Data, _ headers: HTTPHeaders = [:]) -> CLIError {
        let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        var name = headers.first(name: "iothub-errorcode")
        var text = obj?["Message"] as? String
        if let message = text, message.hasPrefix("ErrorCode:"), let semi = message.firstIndex(of: ";") {
            name = String(message[message.index(message.startIndex, offsetBy: 10)..<semi])
            text = String(message[message.index(after: semi)...])
        }
        guard name != nil || text != nil else {
            return CLIError("the hub answered \(status.code) \(status.reasonPhrase)", status: status.code)
        }
        let number = (obj?["errorCode"] as? Int) ?? IoTHubErrorCode.allCases.first { $0.name == name }?.rawValue
        let code = number.flatMap(IoTHubErrorCode.init(rawValue:))
        var line = [name, number.map(String.init)].compactMap { $0 }.joined(separator: " ")
        if let text { line = line.isEmpty ? text : "\(line): \(text)" }
        if let hint = code.flatMap(hint) { line += "\n" + hint }
        return CLIError(line, status: status.code, hubMessage: text)
    }

    private static func hint(_ code: IoTHubErrorCode) -> String? {
        switch code {
        case .preconditionFailed, .etagDoesNotMatch:
            "It changed since its ETag was read: show it again, then retry with the new ETag."
        case .deviceNotOnline:
            "The device is not connected, or has not subscribed to direct methods. Give it time with --connect-timeout."
        case .gatewayTimeout:
            "The device did not answer in time; a longer --timeout may help if the method is slow."
        default: nil
        }
    }

    static func path(_ segments: String...) -> String {
        "/" + segments.map { PercentEncoding.encode($0) }.joined(separator: "/") + "?api-version=2021-04-12"
    }

    /// An Outpost endpoint (`/$outpost/…`, no api-version): each segment and query value
    /// percent-encoded, query items without a value left out.
    static func outpostPath(_ segments: String..., query: [(String, String?)] = []) -> String {
        var path = "/$outpost/" + segments.map { PercentEncoding.encode($0) }.joined(separator: "/")
        let items = query.compactMap { name, value in value.map { "\(name)=\(PercentEncoding.encode($0))" } }
        if !items.isEmpty { path += "?" + items.joined(separator: "&") }
        return path
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
