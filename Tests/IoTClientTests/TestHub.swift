#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HubServer
import HubStore
import IoTClient
import IoTProtocol
import Logging
import ServiceLifecycle
import Twin

/// A real hub in this process, as `iothub serve` runs it, on its own loopback address with
/// free high ports and a temporary data directory.
final class TestHub: @unchecked Sendable {
    let host: String
    let mqttPort: Int
    let httpsPort: Int
    private(set) var dataDirectory: URL
    private var directories: [URL] = []
    private(set) var hub: Hub!
    private var group: ServiceGroup?
    private var runTask: Task<Void, Error>?

    static func start() async throws -> TestHub {
        let host = "127.0.\(Int.random(in: 1...254)).\(Int.random(in: 2...254))"
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("iotclient-tests-\(UUID().uuidString)")
        let testHub = TestHub(host: host, mqttPort: try freePort(host), httpsPort: try freePort(host), dataDirectory: dir)
        try await testHub.run()
        return testHub
    }

    private init(host: String, mqttPort: Int, httpsPort: Int, dataDirectory: URL) {
        self.host = host
        self.mqttPort = mqttPort
        self.httpsPort = httpsPort
        self.dataDirectory = dataDirectory
    }

    private func run() async throws {
        var logger = Logger(label: "test-hub")
        logger.logLevel = ProcessInfo.processInfo.environment["IOTCLIENT_TEST_VERBOSE"] != nil ? .debug : .error
        let config = HubConfiguration(host: host, dataDirectory: dataDirectory, mqttPort: mqttPort, httpsPort: httpsPort,
                                      connectTimeout: .seconds(10), metricsPort: 0)
        directories.append(dataDirectory)
        let hub = try Hub(config: config, logger: logger)
        self.hub = hub
        let group = ServiceGroup(configuration: .init(
            services: HubService.services(for: hub).map { .init(service: $0) },
            gracefulShutdownSignals: [], logger: logger))
        self.group = group
        runTask = Task { try await group.run() }
        try await waitUntilListening(port: mqttPort)
        try await waitUntilListening(port: httpsPort)
    }

    /// Stops the hub gracefully: listeners close, every connection is closed, the store too.
    func stop() async {
        await group?.triggerGracefulShutdown()
        _ = try? await runTask?.value
        group = nil
        runTask = nil
        hub = nil
    }

    /// Stops the hub and starts a new one on the same address and ports, with a copy of the
    /// stopped hub's data directory (registry, sessions, twins, CA and server certificate).
    /// A copy, because the old `Hub` object (and with it the data directory's lock) outlives
    /// its services in this process.
    func restart() async throws {
        await stop()
        let copy = dataDirectory.deletingLastPathComponent().appendingPathComponent("\(dataDirectory.lastPathComponent)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.copyItem(at: dataDirectory, to: copy)
        dataDirectory = copy
        try await run()
    }

    func remove() async {
        await stop()
        for directory in directories { try? FileManager.default.removeItem(at: directory) }
    }

    // MARK: registry and twins

    /// Registers a device (or a module on an existing device) and returns its primary key.
    @discardableResult
    func register(_ deviceID: String, module moduleID: String? = nil) async throws -> String {
        let key = SymmetricKeyGenerator.make()
        try await hub.store.create(IdentityRecord(deviceId: deviceID, moduleId: moduleID ?? "", generationId: UUID().uuidString,
                                                  etag: "1", primaryKey: key, secondaryKey: SymmetricKeyGenerator.make(),
                                                  createdTime: Date()))
        return key
    }

    /// Patches desired properties as the service API does, pushing the patch to the connected
    /// client. Returns the new desired `$version`.
    @discardableResult
    func patchDesired(_ deviceID: String, module moduleID: String? = nil, _ patch: [String: JSONValue]) async throws -> Int {
        let connections = hub.connections
        let clientID = IdentityID(deviceID: deviceID, moduleID: moduleID).clientID
        let (row, _) = try await hub.store.updateTwin(deviceID: deviceID, moduleID: moduleID, ifMatch: nil) { twin in
            try twin.patchDesired(patch, at: Date())
        } afterCommit: { _, notification in
            if let notification { connections.push(.desiredPatch(notification), to: clientID) }
        }
        return row.twin.desired.version
    }

    func configuration(_ deviceID: String, module moduleID: String? = nil, key: String,
                       transports: [IoTClientTransport] = [.mqtt, .mqttWebSocket]) -> IoTClientConfiguration {
        var c = IoTClientConfiguration(hostName: host, port: mqttPort, webSocketPort: httpsPort, deviceID: deviceID,
                                       moduleID: moduleID, credentials: .sharedAccessKey(key),
                                       trustedCAPEM: hub.certificates.caPEM, transports: transports,
                                       operationTimeout: .seconds(15), connectTimeout: .seconds(5))
        c.reconnectBackoff = ReconnectBackoff(initial: .milliseconds(200), maximum: .seconds(1))
        return c
    }

    // MARK: sockets

    /// A port nothing listens on right now, found by binding port 0.
    static func freePort(_ host: String) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        inet_pton(AF_INET, host, &address.sin_addr)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw TestFailure("bind(\(host):0) failed: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether a TCP connection to the port succeeds.
    static func canConnect(_ host: String, _ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        inet_pton(AF_INET, host, &address.sin_addr)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    private func waitUntilListening(port: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !Self.canConnect(host, port) {
            guard ContinuousClock.now < deadline else { throw TestFailure("the hub does not listen on \(host):\(port)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Collects values from any thread, in order.
final class Recorder<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Value] = []

    func append(_ value: Value) { lock.withLock { values.append(value) } }
    var all: [Value] { lock.withLock { values } }

    /// Reads `stream` into the recorder until it ends.
    @discardableResult
    static func reading(_ stream: AsyncStream<Value>) -> Recorder {
        let recorder = Recorder()
        Task { for await value in stream { recorder.append(value) } }
        return recorder
    }

    /// Waits until some recorded value satisfies `condition`, and returns it.
    func wait(for what: String, timeout: Duration = .seconds(15), _ condition: (Value) -> Bool) async throws -> Value {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let found = all.first(where: condition) { return found }
            guard ContinuousClock.now < deadline else { throw TestFailure("timed out waiting for \(what); got \(all)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// Runs `operation`, failing if it takes longer than `timeout`, so that no test hangs.
func within<T: Sendable>(_ timeout: Duration = .seconds(20), _ what: String,
                         _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw TestFailure("\(what) took longer than \(timeout)")
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// Polls `condition` until it holds.
func eventually(_ what: String, timeout: Duration = .seconds(15), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TestFailure("timed out waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(20))
    }
}
