import Twin
import EdgeDaemon

/// `disk-space`: the data directory's file system has room for logs, edgeHub's store-and-
/// forward queue and module storage.
public struct DiskSpace: Checker {
    public let id = "disk-space"
    public let description = "enough free disk space in the data directory"
    public let fix = "Free space on that file system, or move homedir in config.toml to a larger one"

    public init() {}

    public func run(_ context: CheckContext) async -> CheckResult {
        guard let config = context.config else { return .skipped("config.toml cannot be read; see config-toml-well-formed.") }
        guard let (path, space) = SystemFacts.space(at: config.homeDirectory) else {
            return .failed("cannot read the free space of \(config.homeDirectory)", fix: "Check that the path exists and is readable.")
        }
        return Self.assess(space, path: path, fix: fix)
    }

    /// A warning under 10 % or 1 GiB free; failed when nothing is left.
    public static func assess(_ space: SystemFacts.Space, path: String, fix: String) -> CheckResult {
        let info: [String: JSONValueConvertible] = ["path": path, "available_bytes": space.available, "total_bytes": space.total]
        let text = "\(SystemFacts.bytes(space.available)) of \(SystemFacts.bytes(space.total)) free (\(Int(space.fraction * 100)) %) at \(path)"
        if space.available == 0 {
            return .failed("no space left at \(path): logs, messages and twins cannot be written.", fix: fix, info: info.json)
        }
        if space.fraction < 0.10 || space.available < 1 << 30 {
            return .warning("only \(text): edgeHub drops messages it cannot store, and logs stop.", fix: fix, info: info.json)
        }
        return .ok(text, info: info.json)
    }
}
