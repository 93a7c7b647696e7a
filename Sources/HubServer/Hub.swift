import Foundation
import HubStore
import IoTProtocol
import Logging

/// The hub's shared state: configuration, store, telemetry writer and feed, the connected
/// clients. Listeners and the REST API hold one and call into it.
public final class Hub: Sendable {
    public let config: HubConfiguration
    public let store: SQLiteHubStore
    public let policies: SharedAccessPolicies
    public let certificates: HubCertificates
    public let writer: TelemetryWriter
    public let feed: TelemetryFeed
    public let connections: ConnectionRegistry
    public let logger: Logger

    public init(config: HubConfiguration, logger: Logger) throws {
        try FileManager.default.createDirectory(at: config.dataDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        guard HostName.isValid(config.host) else { throw HubSetupError.invalidHost(config.host) }
        self.config = config
        self.logger = logger
        self.certificates = try HubCertificates.loadOrCreate(in: config)
        self.policies = try SharedAccessPolicies.loadOrCreate(in: config)
        self.store = try SQLiteHubStore(path: config.file("hub.sqlite").path)
        try store.markAllDisconnected(at: Date())
        let feed = TelemetryFeed()
        self.feed = feed
        self.writer = TelemetryWriter(store: store) { stored in
            if let last = stored.last?.sequenceNumber { feed.publish(last) }
        }
        self.connections = ConnectionRegistry()
        try HubEndpointFile(host: config.host, mqttPort: config.mqttPort, httpsPort: config.httpsPort)
            .write(to: config.file("hub.json"))
    }

    public var serviceConnectionString: ConnectionString { policies.serviceConnectionString(host: config.host) }
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
