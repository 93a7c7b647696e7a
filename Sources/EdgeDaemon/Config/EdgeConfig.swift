import Twin
/// The daemon's configuration, read from `config.toml` in the shape of IoT Edge 1.5's
/// (https://learn.microsoft.com/azure/iot-edge/configure-device): `hostname`, `[provisioning]`,
/// `trust_bundle_cert`, `[agent]`, `[connect]`, `[listen]`, plus `homedir` for the data
/// directory. `EdgeConfig.load(path:)` parses and validates it; every value here is checked.
public struct EdgeConfig: Sendable, Equatable {
    /// The file it was read from, for messages.
    public var file: String
    /// The device's host name: what modules and downstream devices use to reach edgeHub.
    public var hostname: String
    /// Where the daemon keeps its state: identities, the edge CA, logs, sockets.
    public var homeDirectory: String
    public var provisioning: Provisioning
    /// The PEM text of `trust_bundle_cert`: the CA that signs the hub's TLS certificate, handed
    /// to modules through the workload API's trust bundle.
    public var trustBundlePEM: String?
    /// The path of `trust_bundle_cert`, for messages.
    public var trustBundlePath: String?
    public var agent: Agent
    /// What clients (edgeAgent, modules, the CLI) are told to connect to.
    public var connect: Endpoints
    /// Where the daemon listens.
    public var listen: Endpoints
    /// Things the daemon read but does not act on (`[moby_runtime]`, …), logged at start-up.
    public var notes: [String]

    public struct Provisioning: Sendable, Equatable {
        /// Only `manual` is supported: a connection string, or a hub, a device id and a key.
        public var source: String
        public var iothubHostname: String
        public var deviceID: String
        /// The device's symmetric key, base64.
        public var deviceKey: String
        /// Where the key came from (`connection_string`, `device_id_pk.value`, or a file path).
        public var keySource: String
        /// The hub's HTTPS port for the registry calls: 443, as Azure's, unless
        /// `iothub_https_port` says otherwise (an Outpost hub on a port of its own).
        public var iothubHTTPSPort: Int

        public init(source: String = "manual", iothubHostname: String, deviceID: String, deviceKey: String,
                    keySource: String = "connection_string", iothubHTTPSPort: Int = 443) {
            self.source = source
            self.iothubHostname = iothubHostname
            self.deviceID = deviceID
            self.deviceKey = deviceKey
            self.keySource = keySource
            self.iothubHTTPSPort = iothubHTTPSPort
        }
    }

    /// `[agent]`: the module the daemon starts itself, edgeAgent, which manages the others.
    public struct Agent: Sendable, Equatable {
        public var name: String
        /// `process` (Outpost's own) or `docker` (accepted: the image is mapped to Outpost's
        /// edge-agent executable, see `ExecutableResolver`).
        public var type: String
        public var image: String
        /// `[agent.config] createOptions`, as JSON.
        public var createOptions: JSONValue?
        /// `[agent.env]`, in file order.
        public var env: [EnvironmentVariable]
        public var imagePullPolicy: String?

        public init(name: String = "edgeAgent", type: String = "process", image: String = "edge-agent",
                    createOptions: JSONValue? = nil, env: [EnvironmentVariable] = [], imagePullPolicy: String? = nil) {
            self.name = name
            self.type = type
            self.image = image
            self.createOptions = createOptions
            self.env = env
            self.imagePullPolicy = imagePullPolicy
        }
    }

    /// A pair of `unix://` URIs, as `[connect]` and `[listen]` give them.
    public struct Endpoints: Sendable, Equatable {
        public var managementURI: String
        public var workloadURI: String

        public init(managementURI: String, workloadURI: String) {
            self.managementURI = managementURI
            self.workloadURI = workloadURI
        }

        /// The socket paths (`unix:///a/b.sock` is `/a/b.sock`).
        public var managementSocketPath: String { EdgeConfig.socketPath(managementURI) ?? managementURI }
        public var workloadSocketPath: String { EdgeConfig.socketPath(workloadURI) ?? workloadURI }
    }

    public init(file: String, hostname: String, homeDirectory: String, provisioning: Provisioning,
                trustBundlePEM: String? = nil, trustBundlePath: String? = nil, agent: Agent = Agent(),
                connect: Endpoints? = nil, listen: Endpoints? = nil, notes: [String] = []) {
        self.file = file
        self.hostname = hostname
        self.homeDirectory = homeDirectory
        self.provisioning = provisioning
        self.trustBundlePEM = trustBundlePEM
        self.trustBundlePath = trustBundlePath
        self.agent = agent
        let defaults = Endpoints(managementURI: "unix://" + FileIO.join(homeDirectory, "mgmt.sock"),
                                 workloadURI: "unix://" + FileIO.join(homeDirectory, "workload.sock"))
        // Each URI not given is the other section's, else the default under homedir: the
        // daemon listens where clients connect unless the file says otherwise.
        func pick(_ a: String?, _ b: String?, _ d: String) -> String {
            if let a, !a.isEmpty { return a }
            if let b, !b.isEmpty { return b }
            return d
        }
        self.connect = Endpoints(managementURI: pick(connect?.managementURI, listen?.managementURI, defaults.managementURI),
                                 workloadURI: pick(connect?.workloadURI, listen?.workloadURI, defaults.workloadURI))
        self.listen = Endpoints(managementURI: pick(listen?.managementURI, connect?.managementURI, defaults.managementURI),
                                workloadURI: pick(listen?.workloadURI, connect?.workloadURI, defaults.workloadURI))
        self.notes = notes
    }

    /// The path of a `unix://` URI, or nil for any other scheme.
    public static func socketPath(_ uri: String) -> String? {
        guard uri.hasPrefix("unix://") else { return nil }
        let path = String(uri.dropFirst("unix://".count))
        return path.hasPrefix("/") ? path : nil
    }

    public var logDirectory: String { FileIO.join(homeDirectory, "logs") }
}

/// One `KEY=VALUE` of a module's environment. A list rather than a dictionary keeps the order
/// in which a deployment or `[agent.env]` wrote them.
public struct EnvironmentVariable: Codable, Sendable, Equatable {
    public var key: String
    public var value: String
    public init(key: String, value: String) { self.key = key; self.value = value }
}
