import Foundation
import HubStore
import IoTProtocol
import Logging
import NIOConcurrencyHelpers
import Twin

/// Serves a client's twin GET and reported PATCH from elsewhere than the local store.
public protocol TwinProxy: Sendable {
    /// `{"desired": {…}, "reported": {…}}` as a device's twin GET answers.
    func twin(for identity: IdentityID) async throws -> JSONValue
    /// Returns the new reported `$version`.
    func patchReported(for identity: IdentityID, _ patch: JSONValue) async throws -> Int
}

/// The hub's shared state: configuration, store, telemetry writer and feed, the connected
/// clients. Listeners and the REST API hold one and call into it.
public final class Hub: Sendable {
    public let config: HubConfiguration
    public let store: SQLiteHubStore
    public let policies: SharedAccessPolicies
    public let certificates: HubCertificates
    public let writer: TelemetryWriter
    /// Checkpoints the store's WAL off the writer's path; nil in low-memory mode.
    let checkpointer: WALCheckpointer?
    public let feed: TelemetryFeed
    public let connections: ConnectionRegistry
    public let methods: MethodDispatcher
    public let diagnostics: DiagnosticLog
    public let metrics: HubMetrics
    public let blobs: BlobStore
    public let fileUploadNotifications: FileUploadNotifications
    private let twinProxyBox = NIOLockedValueBox<(any TwinProxy)?>(nil)
    public let logger: Logger
    private let lock: DataDirectoryLock

    /// `certificates` replaces the hub's own PKI (edgeHub serves a certificate from the edge
    /// daemon); by default the hub makes and keeps its own in the data directory.
    public init(config: HubConfiguration, logger: Logger, certificates: HubCertificates? = nil) throws {
        guard HostName.isValid(config.host) else { throw HubSetupError.invalidHost(config.host) }
        do {
            try FileManager.default.createDirectory(at: config.dataDirectory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw HubSetupError.cannotWrite(config.dataDirectory.path, "cannot create the directory (\((error as NSError).localizedDescription))")
        }
        self.lock = try DataDirectoryLock(directory: config.dataDirectory)
        self.config = config
        self.logger = logger
        self.certificates = try certificates ?? HubCertificates.loadOrCreate(in: config)
        self.policies = try SharedAccessPolicies.loadOrCreate(in: config)
        let storePath = config.file("hub.sqlite").path
        // A small device keeps SQLite's automatic checkpoints: one thread and connection fewer.
        // (The checkpointer opens its connection when it first runs, after the store is in WAL.)
        let checkpointer = config.lowMemory ? nil : WALCheckpointer(path: storePath)
        let store = try SQLiteHubStore(path: storePath, lowMemory: config.lowMemory, sync: config.storeSync,
                                       separateCheckpoints: checkpointer != nil)
        self.store = store
        self.checkpointer = checkpointer
        try store.markAllDisconnected(at: Date())
        let feed = TelemetryFeed(latest: try store.lastSequenceNumberNow(), recentLimit: config.recentTelemetryLimit)
        self.feed = feed
        self.writer = TelemetryWriter(store: store) { stored in
            feed.publish(stored)
            if let checkpointer, checkpointer.noteCommit(), !store.checkpointBetweenCommits() {
                checkpointer.catchUpFailed()
            }
        }
        let connections = ConnectionRegistry()
        self.connections = connections
        self.methods = MethodDispatcher(connections: connections)
        self.diagnostics = try DiagnosticLog(store: store, host: config.host, logger: logger)
        self.metrics = HubMetrics()
        self.blobs = try BlobStore(dataDirectory: config.dataDirectory, maxBlobBytes: config.maxBlobBytes)
        self.fileUploadNotifications = FileUploadNotifications(dataDirectory: config.dataDirectory)
        try HubEndpointFile(host: config.host, mqttPort: config.mqttPort, httpsPort: config.httpsPort)
            .write(to: config.file("hub.json"))
    }

    public var serviceConnectionString: ConnectionString { policies.serviceConnectionString(host: config.host) }

    /// Where clients' twins live when they are not this hub's (edgeHub proxies them upstream).
    public var twinProxy: (any TwinProxy)? {
        get { twinProxyBox.withLockedValue { $0 } }
        set { twinProxyBox.withLockedValue { $0 = newValue } }
    }
}

/// `hub.json` in the data directory tells the admin commands where the running hub listens.
public struct HubEndpointFile: Codable, Sendable {
    public var host: String
    public var mqttPort: Int
    public var httpsPort: Int

    public init(host: String, mqttPort: Int, httpsPort: Int) {
        self.host = host; self.mqttPort = mqttPort; self.httpsPort = httpsPort
    }

    public func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: url, options: .atomic)
    }

    public static func read(from url: URL) throws -> HubEndpointFile {
        try JSONDecoder().decode(HubEndpointFile.self, from: Data(contentsOf: url))
    }
}

/// One hub per data directory: a second `iothub serve` on the same store would corrupt the
/// connection states and race the telemetry writer. The lock dies with the process.
final class DataDirectoryLock: Sendable {
    private let fd: Int32

    init(directory: URL) throws {
        let path = directory.appendingPathComponent("hub.lock").path
        fd = open(path, O_RDWR | O_CREAT, 0o600)
        guard fd >= 0 else { throw HubSetupError.cannotWrite(path, String(cString: strerror(errno))) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = read(fd, &buffer, buffer.count)
            let pid = n > 0 ? String(decoding: buffer[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
            close(fd)
            throw HubSetupError.dataDirectoryInUse(directory.path, pid)
        }
        ftruncate(fd, 0)
        let pid = Array("\(getpid())\n".utf8)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    deinit { close(fd) }
}
