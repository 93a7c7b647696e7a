import ArgumentParser
import Foundation
import HubServer
import HubStore
import IoTProtocol
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

    @Option(help: "Port for MQTT without TLS, for a TLS-terminating proxy or benchmarks (default 0: none; tokens travel in clear text).")
    var mqttPlainPort = 0

    @Option(help: "Address to listen on (default: --host when it is an IP address, else all interfaces).")
    var bind: String?

    @Option(help: "How long telemetry is kept, e.g. 1d, 12h, 30m, 3600s.")
    var retention = "1d"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    @Option(help: "How long a client may take to finish TLS and MQTT CONNECT (logged as 500008 GenericTimeout otherwise).")
    var connectTimeout = "30s"

    @Option(help: "Port for plain-HTTP Prometheus metrics at /metrics on the listen address; 0 turns it off.")
    var metricsPort = 9464

    @Option(help: "How often metric alerts are evaluated, e.g. 60s, 1m.")
    var alertInterval = "60s"

    @Option(help: ArgumentHelp("The largest blob the hub's storage takes in one upload, in MiB (file upload, support bundles).", valueName: "MiB"))
    var maxBlobSize = BlobStore.defaultMaxBlobBytes >> 20

    @Option(help: ArgumentHelp("""
        What a device's PUBACK waits for. full: the message is fsynced and survives a power loss. \
        normal: the message is written to the OS and survives a crash of the hub, not of the machine; \
        PUBACKs no longer wait for the disk.
        """, valueName: "full|normal"))
    var sync = "full"

    func run() async throws {
        guard let storeSync = StoreSync(rawValue: sync.lowercased()) else {
            throw ValidationError("--sync \"\(sync)\" is not full or normal: full fsyncs every acknowledged message (survives power loss), normal leaves it to the OS (survives a hub crash).")
        }
        guard let level = Logger.Level(rawValue: logLevel.lowercased()) else {
            throw ValidationError("--log-level \"\(logLevel)\" is not one of trace, debug, info, notice, warning, error, critical.")
        }
        let retentionSeconds = try Self.duration(retention, "--retention", 1...(3650 * 86_400))
        let connectSeconds = try Self.duration(connectTimeout, "--connect-timeout", 1...600)
        let alertSeconds = try Self.duration(alertInterval, "--alert-interval", 1...3600)
        for (name, port) in [("--mqtt-port", mqttPort), ("--https-port", httpsPort)] where !(1...65535).contains(port) {
            throw ValidationError("\(name) \(port) is not a port number (1 to 65535).")
        }
        guard (0...65535).contains(mqttPlainPort) else {
            throw ValidationError("--mqtt-plain-port \(mqttPlainPort) is not a port number (1 to 65535, or 0 for none).")
        }
        guard (0...65535).contains(metricsPort) else {
            throw ValidationError("--metrics-port \(metricsPort) is not a port number (1 to 65535, or 0 to turn metrics off).")
        }
        guard (1...4096).contains(maxBlobSize) else {
            throw ValidationError("--max-blob-size \(maxBlobSize) is out of range: give 1 to 4096 (MiB).")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        umask(0o077)  // the store holds device keys: owner only
        let logger = Logger(label: "iothub")
        let dir = dataDir.map { URL(fileURLWithPath: $0) } ?? HubConfiguration.defaultDataDirectory
        var config = HubConfiguration(host: host, dataDirectory: dir, mqttPort: mqttPort, httpsPort: httpsPort,
                                      bindAddress: bind, retention: .seconds(retentionSeconds),
                                      connectTimeout: .milliseconds(Int64(connectSeconds * 1000)), metricsPort: metricsPort,
                                      alertInterval: .milliseconds(Int64(alertSeconds * 1000)))
        config.maxBlobBytes = maxBlobSize << 20
        config.mqttPlainPort = mqttPlainPort
        config.storeSync = storeSync
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

extension Serve {
    /// Parses a duration option, naming the option and the accepted range when it is wrong.
    static func duration(_ text: String, _ option: String, _ range: ClosedRange<Double>) throws -> Double {
        guard let seconds = DurationText.seconds(text), range.contains(seconds) else {
            throw ValidationError("\(option) \"\(text)\" is not a duration from \(DurationText.iso(seconds: range.lowerBound)) to \(DurationText.iso(seconds: range.upperBound)), such as 90s, 30m, 12h or 1d.")
        }
        return seconds
    }
}
