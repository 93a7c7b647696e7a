import ArgumentParser
import Foundation
import HubServer
import Logging
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the hub: MQTT over TLS, HTTPS REST and MQTT over WebSocket.",
        discussion: """
            On first start this creates, in the data directory, a CA (ca.pem, the certificate clients
            trust), a server certificate for --host and localhost, the iothubowner policy key and the
            SQLite store. SIGTERM or SIGINT stop the hub gracefully.
            """)

    @Option(help: "Directory for the store, certificates and keys (default ~/.outpost/hub).")
    var dataDir: String?

    @Option(help: "The name devices use to reach the hub: a DNS name or an IP address.")
    var host = "localhost"

    @Option(help: "Port for MQTT over TLS.")
    var mqttPort = 8883

    @Option(help: "Port for HTTPS REST and MQTT over WebSocket.")
    var httpsPort = 443

    @Option(help: "Address to listen on (default: --host when it is an IP address, else all interfaces).")
    var bind: String?

    @Option(help: "How long telemetry is kept, e.g. 1d, 12h, 30m, 3600s.")
    var retention = "1d"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel.lowercased()) else {
            throw ValidationError("--log-level \"\(logLevel)\" is not one of trace, debug, info, notice, warning, error, critical.")
        }
        guard let retentionSeconds = DurationParser.seconds(retention), retentionSeconds > 0 else {
            throw ValidationError("--retention \"\(retention)\" is not a duration such as 1d, 12h, 30m or 3600s.")
        }
        for (name, port) in [("--mqtt-port", mqttPort), ("--https-port", httpsPort)] where !(1...65535).contains(port) {
            throw ValidationError("\(name) \(port) is not a port number (1 to 65535).")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        umask(0o077)  // the store holds device keys: owner only
        let logger = Logger(label: "iothub")
        let dir = dataDir.map { URL(fileURLWithPath: $0) } ?? HubConfiguration.defaultDataDirectory
        let config = HubConfiguration(host: host, dataDirectory: dir, mqttPort: mqttPort, httpsPort: httpsPort,
                                      bindAddress: bind, retention: .seconds(retentionSeconds))
        let hub: Hub
        do { hub = try Hub(config: config, logger: logger) } catch {
            throw CLIError("cannot start the hub: \(error)")
        }
        let group = ServiceGroup(configuration: .init(
            services: HubService.services(for: hub).map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup,
                                                                failureTerminationBehavior: .gracefullyShutdownGroup) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        do { try await group.run() } catch {
            throw CLIError("\(error)")
        }
    }
}

enum DurationParser {
    /// "90", "90s", "30m", "12h", "1d" → seconds.
    static func seconds(_ text: String) -> Int64? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Int64)] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            return Int64(t.dropLast()).map { $0 * factor }
        }
        return Int64(t)
    }
}
