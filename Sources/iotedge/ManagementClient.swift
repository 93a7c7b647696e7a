import AsyncHTTPClient
import EdgeDaemon
import EdgeModule
import Foundation
import NIOCore
import NIOHTTP1
import Twin

/// The management API as the CLI uses it. A socket that does not answer becomes "iotedged is
/// not running" with the way to start it; an error the daemon answers is shown as it said it.
struct ManagementClient {
    let api: EdgeAPIClient
    let uri: String
    let configPath: String

    init(uri: String, configPath: String) throws {
        self.uri = uri
        self.configPath = configPath
        api = try EdgeAPIClient(http: .shared, uri: uri)
    }

    func call(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil, timeout: TimeAmount = .seconds(60)) async throws -> JSONValue {
        // The HTTP client retries a refused unix socket until its deadline: ask the socket first.
        if let refusal = Self.connectRefusal(api.socketPath) { throw notRunning(CLIFailure(refusal)) }
        do {
            return try await api.call(method, path, body: body, timeout: timeout)
        } catch let error as EdgeModuleError {
            throw CLIFailure(Self.daemonMessage(error.description))
        } catch {
            throw notRunning(error)
        }
    }

    func decode<T: Decodable>(_ type: T.Type, _ method: HTTPMethod, _ path: String, body: JSONValue? = nil,
                              timeout: TimeAmount = .seconds(60)) async throws -> T {
        let value = try await call(method, path, body: body, timeout: timeout)
        return try JSONDecoder().decode(T.self, from: Data(value.jsonText.utf8))
    }

    /// A short timeout: a daemon that is shutting down may accept and never answer.
    func status() async throws -> SystemStatus { try await decode(SystemStatus.self, .GET, "/system/status", timeout: .seconds(3)) }

    func modules() async throws -> [ModuleDetailsJSON] {
        try await decode(ModuleListJSON.self, .GET, "/modules").modules
    }

    /// Streams a text answer (module logs) to `write`, chunk by chunk, until it ends.
    func stream(_ path: String, _ write: (ByteBuffer) -> Void) async throws {
        if let refusal = Self.connectRefusal(api.socketPath) { throw notRunning(CLIFailure(refusal)) }
        let socket = api.socketPath.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? api.socketPath
        var request = HTTPClientRequest(url: "http+unix://\(socket)\(path)\(path.contains("?") ? "&" : "?")api-version=2020-07-07")
        request.method = .GET
        let response: HTTPClientResponse
        do { response = try await api.http.execute(request, timeout: .hours(24 * 365)) } catch { throw notRunning(error) }
        guard response.status == .ok else {
            let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
            throw CLIFailure(Self.daemonMessage(text))
        }
        for try await chunk in response.body { write(chunk) }
    }

    func notRunning(_ error: Error) -> CLIFailure {
        CLIFailure("""
        iotedged is not running: cannot connect to its management socket \(uri) (\(Self.reason(error))).
        Start it with: sudo iotedge system restart   (or: iotedged --config \(configPath))
        Then look at what it logs: sudo iotedge system logs
        """)
    }

    /// The daemon's `{"message": …}`, else its text.
    static func daemonMessage(_ text: String) -> String {
        if let start = text.firstIndex(of: "{"), let json = try? JSONValue(parsing: String(text[start...])),
           let message = json["message"]?.stringValue {
            return message
        }
        return text
    }

    static func reason(_ error: Error) -> String {
        let text = "\(error)"
        if text.contains("connectTimeout") || text.contains("timed out") { return "no answer" }
        if text.contains("No such file") || text.contains("ENOENT") || text.contains("connectionRefused") || text.contains("Connection refused") {
            return "nothing listens there"
        }
        if text.contains("Permission denied") || text.contains("EACCES") { return "permission denied: run it with sudo" }
        return text
    }

    /// Why a unix socket cannot be connected to (strerror), or nil when something accepts.
    static func connectRefusal(_ path: String) -> String? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return "socket path too long" }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return rc == 0 ? nil : String(cString: strerror(errno))
    }

}
