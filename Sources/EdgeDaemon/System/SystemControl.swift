/// What `iotedge system …` and `iotedge config apply` ask of a running daemon through the
/// management API (`/system/…`). The daemon implements it; tests of the API alone leave it out.
public protocol SystemControl: Sendable {
    func status() async -> SystemStatus
    /// Changes the daemon's log level now and for every later start.
    func setLogLevel(_ level: String) async throws
    /// Stops every module and the daemon, then starts it again from its config file.
    func restart() async
    /// Stops every module and the daemon.
    func stop() async
    /// Forgets the cached identities, provisions again from the config file, then restarts.
    func reprovision() async
    /// Reads the config file again and restarts what changed.
    func reload() async throws -> ReloadResult
}

/// `GET /system/status`.
public struct SystemStatus: Codable, Sendable {
    public struct Service: Codable, Sendable {
        public var name: String
        /// `Running`, `Ready`, `Stopped`, `Failed`, `Not provisioned`, …
        public var status: String
        public var detail: String
        public init(name: String, status: String, detail: String) {
            self.name = name
            self.status = status
            self.detail = detail
        }
    }

    public var pid: Int32
    public var version: String
    /// Seconds since 1970.
    public var startTime: Double
    public var configFile: String
    public var homeDirectory: String
    public var logLevel: String
    public var services: [Service]
    /// When the config file was last applied (start-up or `config apply`); absent from older daemons.
    public var configAppliedTime: Double? = nil
}

/// What `config apply` did.
public struct ReloadResult: Codable, Sendable, Equatable {
    public enum Action: String, Codable, Sendable {
        /// The file says what the daemon already runs.
        case none
        /// Only `[agent]` changed: edgeAgent was updated and restarted.
        case restartedAgent = "restarted-agent"
        /// Identity, host name, sockets or directories changed: the whole daemon restarts.
        case restartingDaemon = "restarting-daemon"
    }

    public var action: Action
    /// One line per setting that changed.
    public var changes: [String]

    public init(action: Action, changes: [String]) {
        self.action = action
        self.changes = changes
    }
}

/// The differences between two configs that matter to a running daemon, one line each.
public enum ConfigDifference {
    public static func agentChanges(_ old: EdgeConfig, _ new: EdgeConfig) -> [String] {
        var out: [String] = []
        if old.agent.name != new.agent.name { out.append("agent.name: \(old.agent.name) → \(new.agent.name)") }
        if old.agent.type != new.agent.type { out.append("agent.type: \(old.agent.type) → \(new.agent.type)") }
        if old.agent.image != new.agent.image { out.append("agent.config.image: \(old.agent.image) → \(new.agent.image)") }
        if old.agent.createOptions != new.agent.createOptions { out.append("agent.config.createOptions changed") }
        if old.agent.imagePullPolicy != new.agent.imagePullPolicy { out.append("agent.imagePullPolicy changed") }
        if old.agent.env != new.agent.env {
            let before = Dictionary(old.agent.env.map { ($0.key, $0.value) }, uniquingKeysWith: { _, b in b })
            let after = Dictionary(new.agent.env.map { ($0.key, $0.value) }, uniquingKeysWith: { _, b in b })
            for key in Set(before.keys).union(after.keys).sorted() where before[key] != after[key] {
                out.append("agent.env.\(key): \(before[key] ?? "(unset)") → \(after[key] ?? "(unset)")")
            }
        }
        return out
    }

    /// Changes that only a restart of the whole daemon can apply.
    public static func daemonChanges(_ old: EdgeConfig, _ new: EdgeConfig) -> [String] {
        var out: [String] = []
        if old.hostname != new.hostname { out.append("hostname: \(old.hostname) → \(new.hostname)") }
        if old.homeDirectory != new.homeDirectory { out.append("homedir: \(old.homeDirectory) → \(new.homeDirectory)") }
        if old.provisioning != new.provisioning {
            let o = old.provisioning, n = new.provisioning
            if o.iothubHostname != n.iothubHostname { out.append("provisioning: hub \(o.iothubHostname) → \(n.iothubHostname)") }
            if o.deviceID != n.deviceID { out.append("provisioning: device \(o.deviceID) → \(n.deviceID)") }
            if o.deviceKey != n.deviceKey { out.append("provisioning: the device key changed") }
            if o.iothubHTTPSPort != n.iothubHTTPSPort { out.append("provisioning: iothub_https_port \(o.iothubHTTPSPort) → \(n.iothubHTTPSPort)") }
        }
        if old.trustBundlePEM != new.trustBundlePEM || old.trustBundlePath != new.trustBundlePath { out.append("trust_bundle_cert changed") }
        if old.listen != new.listen { out.append("[listen] changed") }
        if old.connect != new.connect { out.append("[connect] changed") }
        return out
    }
}
