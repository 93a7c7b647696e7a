import Twin
import EdgeDaemon

/// `edge-agent-storage-mounted-from-host` and `edge-hub-storage-mounted-from-host`: what
/// edgeAgent (its last deployment) and edgeHub (its store-and-forward queue) keep survives a
/// reboot: their storage folder is not on tmpfs and not under /tmp, which boots empty.
public struct StorageMountedFromHost: Checker {
    public let module: String
    public var id: String { module == "edgeHub" ? "edge-hub-storage-mounted-from-host" : "edge-agent-storage-mounted-from-host" }
    public var description: String { "production readiness: \(module)'s storage directory is persisted on the host filesystem" }
    public var fix: String {
        module == "edgeHub"
            ? "Set StorageFolder to a directory on a disk in the deployment's systemModules.edgeHub.env, and apply the deployment"
            : "Set StorageFolder = \"<a directory on a disk>\" under [agent.env] in config.toml, then: sudo iotedge config apply"
    }

    public init(module: String) { self.module = module }

    public func run(_ context: CheckContext) async -> CheckResult {
        guard let config = context.config else { return .skipped("config.toml cannot be read; see config-toml-well-formed.") }
        var env = await context.environment(of: module) ?? [:]
        if module != "edgeHub", env["StorageFolder"] == nil {
            for v in config.agent.env where v.key == "StorageFolder" { env[v.key] = v.value }
        }
        let folder = Self.storageFolder(module: module, env: env, workloadURI: config.connect.workloadURI)
        let mounts = SystemFacts.mounts(FileIO.readText(context.options.proc + "/mounts") ?? "")
        return Self.assess(folder: folder, mount: SystemFacts.mount(of: folder, in: mounts), module: module, fix: fix)
    }

    /// The rule edgeAgent and edgeHub follow (EdgeAgentMain, `EdgeHubSettings.storage`):
    /// `StorageFolder` as given for edgeHub, and for edgeAgent; else `storage/<module>` beside
    /// the workload socket.
    public static func storageFolder(module: String, env: [String: String], workloadURI: String) -> String {
        if let folder = env["StorageFolder"], !folder.isEmpty { return folder }
        let socket = EdgeConfig.socketPath(workloadURI) ?? workloadURI
        return FileIO.join(FileIO.join(FileIO.dirname(of: socket), "storage"), module)
    }

    public static func assess(folder: String, mount: SystemFacts.Mount?, module: String, fix: String) -> CheckResult {
        var info: [String: JSONValue] = ["storage_directory": .string(folder)]
        if let mount { info["mount_point"] = .string(mount.mountPoint); info["filesystem"] = .string(mount.type) }
        if let mount, SystemFacts.volatileTypes.contains(mount.type) {
            return .warning("\(module)'s storage \(folder) is on \(mount.type) (mounted at \(mount.mountPoint)): it is lost at every reboot.",
                            fix: fix, info: info)
        }
        if folder == "/tmp" || folder.hasPrefix("/tmp/") {
            return .warning("\(module)'s storage \(folder) is under /tmp, which the system empties at boot: data might be lost.",
                            fix: fix, info: info)
        }
        return .ok("\(folder) is on \(mount.map { "\($0.type) at \($0.mountPoint)" } ?? "the host filesystem")", info: info)
    }
}
