import AsyncHTTPClient
import Foundation
import IoTProtocol
import NIOCore
import NIOHTTP1
import NIOSSL

/// Outpost's service side over HTTPS: the registry (to create the bench's devices), direct
/// methods, and the events endpoint that `monitor-events` reads.
final class ServiceClient: @unchecked Sendable {
    let login: ServiceLogin
    let http: HTTPClient
    private var baseURL: String { "https://\(login.httpsHost):\(login.httpsPort)" }

    init(_ login: ServiceLogin, connections: Int = 32) throws {
        self.login = login
        var tls = TLSConfiguration.makeClientConfiguration()
        if let pem = login.caPEM { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8))) }
        var config = HTTPClient.Configuration(tlsConfiguration: tls)
        config.timeout.connect = .seconds(10)
        config.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connections
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    func shutdown() async { try? await http.shutdown() }

    private func authorization() -> String {
        let token = SASToken(resource: login.hubName, key: login.policyKey,
                             expiry: Int64(Date().timeIntervalSince1970) + 3600, keyName: login.policyName)
        return token?.text ?? ""
    }

    func request(_ method: HTTPMethod, _ path: String, json body: Any? = nil, ifMatch: String? = nil,
                 timeout: TimeAmount = .seconds(60)) async throws -> (HTTPResponseStatus, Data) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: authorization())
        if let ifMatch { request.headers.add(name: "If-Match", value: ifMatch) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        let response = try await http.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return (response.status, Data(bytes.readableBytesView))
    }

    /// Registers devices with `key` as both SAS keys, `concurrency` requests at a time; devices
    /// that exist already are given the key.
    func createDevices(_ ids: [String], key: String, concurrency: Int = 32) async throws {
        var iterator = ids.makeIterator()
        try await withThrowingTaskGroup(of: Void.self) { group in
            func next() -> Bool {
                guard let id = iterator.next() else { return false }
                group.addTask { try await self.createDevice(id, key: key) }
                return true
            }
            for _ in 0..<concurrency where !next() { break }
            while try await group.next() != nil { _ = next() }
        }
    }

    private func createDevice(_ id: String, key: String) async throws {
        let body: [String: Any] = ["deviceId": id, "status": "enabled",
                                   "authentication": ["type": "sas", "symmetricKey": ["primaryKey": key, "secondaryKey": key]]]
        let path = "/devices/\(id)?api-version=\(Dialer.apiVersion)"
        var (status, data) = try await request(.PUT, path, json: body)
        if status == .conflict {
            // A device of an earlier run with the same --prefix: it takes this run's key.
            (status, data) = try await request(.PUT, path, json: body, ifMatch: "*")
        }
        guard status == .ok || status == .created else {
            throw BenchError("creating device \(id) failed: HTTP \(status.code) \(String(decoding: data.prefix(300), as: UTF8.self))")
        }
    }

    /// The last stored sequence number, so that a reader starts after what earlier runs stored.
    func lastSequenceNumber() async throws -> Int64 {
        let (status, data) = try await request(.GET, "/$outpost/events/stats")
        guard status == .ok, let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw BenchError("GET /$outpost/events/stats failed: HTTP \(status.code)")
        }
        return (object["lastSequenceNumber"] as? NSNumber)?.int64Value ?? 0
    }

    /// Streams the events endpoint from `fromSequence` and hands each line's bytes to `onLine`
    /// until the task is cancelled.
    func streamEvents(fromSequence: Int64, onLine: (ArraySlice<UInt8>) -> Void) async throws {
        var request = HTTPClientRequest(url: baseURL + "/$outpost/events?consumerGroup=outpost-bench&fromSequence=\(fromSequence)")
        request.headers.add(name: "Authorization", value: authorization())
        let response = try await http.execute(request, timeout: .hours(24))
        guard response.status == .ok else { throw BenchError("GET /$outpost/events failed: HTTP \(response.status.code)") }
        var pending: [UInt8] = []
        for try await chunk in response.body {
            pending.append(contentsOf: chunk.readableBytesView)
            var start = 0
            while let nl = pending[start...].firstIndex(of: 0x0A) {
                if nl > start { onLine(pending[start..<nl]) }
                start = nl + 1
            }
            pending.removeFirst(start)
        }
    }

    /// Invokes a direct method; returns the device's status.
    func invokeMethod(deviceID: String, name: String) async throws -> Int {
        let body: [String: Any] = ["methodName": name, "payload": ["bench": true], "responseTimeoutInSeconds": 10]
        let (status, data) = try await request(.POST, "/twins/\(deviceID)/methods?api-version=\(Dialer.apiVersion)", json: body, timeout: .seconds(15))
        guard status == .ok, let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let deviceStatus = (object["status"] as? NSNumber)?.intValue else {
            throw BenchError("HTTP \(status.code)")
        }
        return deviceStatus
    }
}
