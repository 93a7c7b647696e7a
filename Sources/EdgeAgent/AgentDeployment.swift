import Foundation
import Twin

/// The deployment as edgeAgent reads it from its module twin's desired properties
/// (schemaVersion 1.0 or 1.1): the system modules and the user modules with their settings.
public struct AgentDeployment: Sendable, Equatable {
    public var schemaVersion: String
    /// The desired `$version` this deployment came from.
    public var version: Int
    public var edgeHub: ModuleSpec
    public var modules: [String: ModuleSpec]
    /// `runtime.settings.registryCredentials`: for images fetched from a registry.
    public var registryCredentials: [RegistryCredential]

    public struct RegistryCredential: Sendable, Equatable {
        public var address: String
        public var username: String
        public var password: String
    }

    public static let supportedSchemaVersions = ["1.0", "1.1"]

    public struct Failure: Error, Equatable, CustomStringConvertible {
        /// The `lastDesiredStatus.code` IoT Edge reports for it.
        public var code: Int
        public var description: String
    }

    public init(desired: JSONValue) throws {
        let version = Int(desired["$version"]?.numberValue ?? 0)
        guard let schema = desired["schemaVersion"]?.stringValue else {
            throw Failure(code: 417, description: "the deployment has no schemaVersion: the $edgeAgent twin holds no deployment yet")
        }
        guard Self.supportedSchemaVersions.contains(schema) else {
            throw Failure(code: 412, description: "schemaVersion \(schema) is not supported; use 1.0 or 1.1")
        }
        guard let hub = desired["systemModules"]?["edgeHub"] else {
            throw Failure(code: 400, description: "systemModules.edgeHub is missing")
        }
        self.schemaVersion = schema
        self.version = version
        self.edgeHub = try ModuleSpec(name: "edgeHub", hub, system: true)
        var modules: [String: ModuleSpec] = [:]
        for (name, spec) in desired["modules"]?.objectValue ?? [:] {
            modules[name] = try ModuleSpec(name: name, spec, system: false)
        }
        self.modules = modules
        var credentials: [RegistryCredential] = []
        for (name, c) in (desired["runtime"]?["settings"]?["registryCredentials"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let address = c["address"]?.stringValue, let user = c["username"]?.stringValue, let password = c["password"]?.stringValue else {
                throw Failure(code: 400, description: "runtime.settings.registryCredentials.\(name) needs address, username and password")
            }
            credentials.append(RegistryCredential(address: address, username: user, password: password))
        }
        self.registryCredentials = credentials
    }

    /// The credentials whose address is the host of `image` (a URL or a registry reference).
    public func credential(forImage image: String) -> RegistryCredential? {
        func host(_ s: String) -> String {
            var t = Substring(s.lowercased())
            if let r = t.range(of: "://") { t = t[r.upperBound...] }
            if let slash = t.firstIndex(of: "/") { t = t[..<slash] }
            return String(t)
        }
        let imageHost = host(image)
        return registryCredentials.first { host($0.address) == imageHost }
    }

    /// edgeHub first, then user modules by `startupOrder`, then name.
    public var startOrder: [ModuleSpec] {
        [edgeHub] + modules.values.sorted { ($0.startupOrder, $0.name) < ($1.startupOrder, $1.name) }
    }
}

/// One module of the deployment.
public struct ModuleSpec: Sendable, Equatable {
    public enum RestartPolicy: String, Sendable { case never, onFailure = "on-failure", onUnhealthy = "on-unhealthy", always }

    public var name: String
    public var version: String
    public var image: String
    /// Docker-style JSON text (`Cmd`, `Env`, `WorkingDir` are honoured by the process runtime).
    public var createOptions: String
    public var env: [String: String]
    public var desiredStatus: String
    public var restartPolicy: RestartPolicy
    public var startupOrder: UInt32
    public var imagePullPolicy: String

    init(name: String, _ json: JSONValue, system: Bool) throws {
        func fail(_ what: String) -> AgentDeployment.Failure {
            AgentDeployment.Failure(code: 400, description: "module \(name): \(what)")
        }
        guard let image = json["settings"]?["image"]?.stringValue, !image.isEmpty else { throw fail("settings.image is missing") }
        self.name = name
        self.version = json["version"]?.stringValue ?? "1.0"
        self.image = image
        self.createOptions = json["settings"]?["createOptions"]?.stringValue ?? "{}"
        var env: [String: String] = [:]
        for (key, value) in json["env"]?.objectValue ?? [:] {
            switch value["value"] ?? value {
            case .string(let s): env[key] = s
            case .number(let n): env[key] = JSONValue.format(n)
            case .bool(let b): env[key] = b ? "true" : "false"
            default: throw fail("env.\(key) must be {\"value\": …}")
            }
        }
        self.env = env
        self.desiredStatus = json["status"]?.stringValue ?? "running"
        guard ["running", "stopped"].contains(desiredStatus) else { throw fail("status must be running or stopped") }
        let policy = json["restartPolicy"]?.stringValue ?? (system ? "always" : "on-unhealthy")
        guard let restartPolicy = RestartPolicy(rawValue: policy) else {
            throw fail("restartPolicy \"\(policy)\" is not never, on-failure, on-unhealthy or always")
        }
        self.restartPolicy = restartPolicy
        self.startupOrder = UInt32(json["startupOrder"]?.numberValue ?? Double(UInt32.max))
        self.imagePullPolicy = json["imagePullPolicy"]?.stringValue ?? "on-create"
        if (try? JSONValue(parsing: createOptions))?.objectValue == nil {
            throw fail("settings.createOptions is not a JSON object")
        }
    }

    /// What makes a running module out of date: a change here means stop, recreate, start.
    public var configHash: String {
        let envText = env.keys.sorted().map { "\($0)=\(env[$0]!)" }.joined(separator: "\n")
        return [version, image, createOptions, envText].joined(separator: "\u{1}")
    }
}
