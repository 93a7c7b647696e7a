import AsyncHTTPClient
import EdgeDaemon
import EdgeModule
import Foundation
import Twin

/// What the checks share: the options, the config file read once, and the daemon's answers
/// fetched once. Checks run one after another, so the caches need no lock.
public final class CheckContext: @unchecked Sendable {
    public struct Options: Sendable {
        public var configPath: String
        /// The management socket to ask: -H, else the config's, else the default.
        public var managementURI: String?
        /// `--iothub-hostname`: the hub to test connections to instead of the config's.
        public var iothubHostname: String?
        /// Bound on every network probe, in seconds.
        public var timeout: Double = 5
        /// The /proc to read (tests point it elsewhere).
        public var proc: String = "/proc"

        public init(configPath: String, managementURI: String? = nil, iothubHostname: String? = nil) {
            self.configPath = configPath
            self.managementURI = managementURI
            self.iothubHostname = iothubHostname
        }
    }

    public let options: Options
    public var additionalInfo: [String: JSONValue] = [:]

    public init(options: Options) {
        self.options = options
        additionalInfo = [
            "now": .string(RFC3339.format(RFC3339.now(), fractionDigits: 0)),
            "iotedge_version": .string(EdgeDaemonVersion.text),
            "config_file": .string(options.configPath),
        ]
        if let os = SystemFacts.osRelease() { additionalInfo["os"] = .string(os) }
    }

    // MARK: config

    private var configCache: ConfigState?

    public var configState: ConfigState {
        if let configCache { return configCache }
        let state = ConfigState.load(path: options.configPath)
        configCache = state
        return state
    }

    /// The config when it could be read, even with a bad hostname (see `ConfigState`).
    public var config: EdgeConfig? { configState.config }

    /// The hub the connectivity checks test.
    public var hubHostname: String? { options.iothubHostname ?? config?.provisioning.iothubHostname }

    public var managementURI: String {
        options.managementURI ?? config?.connect.managementURI
            ?? "unix://" + FileIO.join(EdgePaths.defaultHomeDirectory(), "mgmt.sock")
    }

    // MARK: the hub

    private var dnsCache: Result<[[UInt8]], ProbeError>?
    /// What the host-connect checks found per port, for the checks that need the same port.
    public var tlsOutcomes: [Int: TLSProbe.Outcome] = [:]

    /// The hub's addresses, resolved once.
    public func hubAddresses() -> Result<[[UInt8]], ProbeError> {
        if let dnsCache { return dnsCache }
        guard let host = hubHostname else { return .failure(ProbeError("no hub host name: config.toml cannot be read")) }
        let result = Resolver.resolve(host)
        dnsCache = result
        return result
    }

    /// The hub's HTTPS port: 443, or `iothub_https_port` for an Outpost hub on a port of its own.
    public var hubHTTPSPort: Int { config?.provisioning.iothubHTTPSPort ?? 443 }

    // MARK: the daemon

    private var statusCache: Result<SystemStatus, ProbeError>?
    private var modulesCache: Result<[ModuleDetailsJSON], ProbeError>?

    /// `GET /system/status` on the management socket.
    public func daemonStatus() async -> Result<SystemStatus, ProbeError> {
        if let statusCache { return statusCache }
        let result: Result<SystemStatus, ProbeError> = await fetch(managementURI, "/system/status")
        statusCache = result
        return result
    }

    /// `GET /modules` on the management socket.
    public func modules() async -> Result<[ModuleDetailsJSON], ProbeError> {
        if let modulesCache { return modulesCache }
        let list: Result<ModuleListJSON, ProbeError> = await fetch(managementURI, "/modules")
        let result = list.map(\.modules)
        modulesCache = result
        return result
    }

    /// A module's deployment environment, from `GET /modules`.
    public func environment(of module: String) async -> [String: String]? {
        guard case .success(let list) = await modules(), let m = list.first(where: { $0.name == module }) else { return nil }
        return Dictionary(m.config.env.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    /// GET on a daemon socket, decoded.
    public func fetch<T: Decodable>(_ uri: String, _ path: String) async -> Result<T, ProbeError> {
        do {
            let api = try EdgeAPIClient(http: .shared, uri: uri)
            let value = try await api.call(.GET, path, timeout: .milliseconds(Int64(options.timeout * 1000)))
            return .success(try JSONDecoder().decode(T.self, from: Data(value.jsonText.utf8)))
        } catch let error as EdgeModuleError {
            return .failure(ProbeError("\(uri) answered an error: \(error.description)"))
        } catch let error as DecodingError {
            return .failure(ProbeError("\(uri)\(path) answered something unexpected: \(error)"))
        } catch {
            return .failure(ProbeError(ProbeError.socketReason(error)))
        }
    }

    /// The skip every check that needs the daemon gives when it does not answer.
    public func daemonSkip(_ error: ProbeError) -> CheckResult {
        .skipped("iotedged does not answer on \(managementURI) (\(error.message)); see connect-management-uri.")
    }
}

/// A probe's failure, as a sentence.
public struct ProbeError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    static func socketReason(_ error: Error) -> String {
        let text = "\(error)"
        if text.contains("connectTimeout") || text.contains("deadlineExceeded") || text.contains("timed out") { return "no answer in time" }
        if text.contains("No such file") || text.contains("ENOENT") { return "the socket does not exist" }
        if text.contains("connectionRefused") || text.contains("Connection refused") || text.contains("ECONNREFUSED") {
            return "nothing listens on the socket"
        }
        if text.contains("Permission denied") || text.contains("EACCES") { return "permission denied: run iotedge check with sudo" }
        return text
    }
}
