import Foundation
import HubStore

/// Everything `iothub serve` needs to know, resolved from the command line.
public struct HubConfiguration: Sendable {
    /// The name clients use for the hub: a DNS name or an IP address. It goes into the server
    /// certificate's SANs and is the `HostName` of every connection string.
    public var host: String
    public var dataDirectory: URL
    public var mqttPort: Int
    public var httpsPort: Int
    /// The address to listen on; defaults to `host` when it is an IP, else all interfaces.
    public var bindAddress: String
    public var retention: Duration
    /// How long a client may take from TCP accept to a completed CONNECT.
    public var connectTimeout: Duration
    /// Plain-HTTP Prometheus endpoint; 0 turns it off.
    public var metricsPort: Int
    /// How often metric alerts are evaluated.
    public var alertInterval: Duration
    /// Other names clients may use in SAS resources and user names: edgeHub accepts the
    /// upstream hub's name, which modules put in their tokens.
    public var aliases: [String] = []
    /// The largest blob the hub's storage takes in one upload.
    public var maxBlobBytes: Int = BlobStore.defaultMaxBlobBytes
    /// Fewer and smaller store caches, for edgeHub on a small device (`OptimizeForPerformance=false`).
    public var lowMemory = false
    /// MQTT without TLS on this port (0: none). For a TLS-terminating proxy in front of the hub,
    /// and for benchmarks; SAS tokens then cross the network in clear text.
    public var mqttPlainPort: Int = 0
    /// What a PUBACK waits for: an fsync (`full`, survives power loss) or the OS (`normal`).
    public var storeSync: StoreSync = .full
    /// How many of the last committed messages the events endpoint keeps in memory for readers
    /// at the head of the stream (0: none; edgeHub routes from the store and has no such reader).
    public var recentTelemetryLimit = 8192

    public init(host: String, dataDirectory: URL, mqttPort: Int = 8883, httpsPort: Int = 443,
                bindAddress: String? = nil, retention: Duration = .seconds(86_400),
                connectTimeout: Duration = .seconds(30), metricsPort: Int = 9464,
                alertInterval: Duration = .seconds(60)) {
        self.host = host
        self.dataDirectory = dataDirectory
        self.mqttPort = mqttPort
        self.httpsPort = httpsPort
        self.bindAddress = bindAddress ?? (HostName.isIPAddress(host) ? host : (host == "localhost" ? "127.0.0.1" : "0.0.0.0"))
        self.retention = retention
        self.connectTimeout = connectTimeout
        self.metricsPort = metricsPort
        self.alertInterval = alertInterval
    }

    /// Names that a SAS token's resource may use for this hub.
    public var acceptedHostNames: Set<String> { Set([host.lowercased(), "localhost"] + aliases.map { $0.lowercased() }) }

    public func file(_ name: String) -> URL { dataDirectory.appendingPathComponent(name) }

    /// The default data directory: `~/.outpost/hub`.
    public static var defaultDataDirectory: URL {
        FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".outpost/hub")
    }
}

public enum HostName {
    public static func isIPAddress(_ s: String) -> Bool { ipv4Bytes(s) != nil || s.contains(":") }

    public static func ipv4Bytes(_ s: String) -> [UInt8]? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { UInt8($0) }
        return bytes.count == 4 ? bytes : nil
    }

    /// RFC 1123 host names, or an IP address.
    public static func isValid(_ s: String) -> Bool {
        if isIPAddress(s) { return true }
        guard !s.isEmpty, s.count <= 253 else { return false }
        return s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }
}
