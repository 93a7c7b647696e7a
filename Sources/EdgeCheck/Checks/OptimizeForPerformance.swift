import Twin
import EdgeDaemon

/// `edge-hub-optimize-for-performance`: seed 000's "Stability issues on resource constrained
/// devices": on a device with little memory edgeHub should run with
/// `OptimizeForPerformance=false`.
public struct OptimizeForPerformance: Checker {
    public let id = "edge-hub-optimize-for-performance"
    public let description = "production readiness: edgeHub's memory use suits this device"
    public let fix = "In the deployment, set systemModules.edgeHub.env.OptimizeForPerformance = {\"value\": \"false\"}, then apply it: iothub edge set-modules <device> --content <manifest>"

    /// Below this much memory a device counts as constrained (a Raspberry Pi class device).
    public static let constrainedBytes: UInt64 = 1 << 30

    public init() {}

    public func run(_ context: CheckContext) async -> CheckResult {
        guard let memory = SystemFacts.memTotal(meminfo: FileIO.readText(context.options.proc + "/meminfo") ?? "") else {
            return .failed("cannot read MemTotal from \(context.options.proc)/meminfo", fix: "Run the check on Linux with /proc mounted.")
        }
        let env: [String: String]
        switch await context.modules() {
        case .success: env = await context.environment(of: "edgeHub") ?? [:]
        case .failure(let e): return context.daemonSkip(e)
        }
        return Self.assess(memTotal: memory, optimizeForPerformance: env["OptimizeForPerformance"], fix: fix)
    }

    public static func assess(memTotal: UInt64, optimizeForPerformance: String?, fix: String) -> CheckResult {
        var info: [String: JSONValue] = ["mem_total_bytes": .number(Double(memTotal))]
        if let v = optimizeForPerformance { info["OptimizeForPerformance"] = .string(v) }
        let off = optimizeForPerformance?.lowercased() == "false"
        if memTotal < constrainedBytes, !off {
            return .warning("""
                this device has \(SystemFacts.bytes(memTotal)) of memory and edgeHub runs with OptimizeForPerformance \(optimizeForPerformance ?? "unset (true)").
                Seed 000 ("Stability issues on resource constrained devices"): optimised for performance, edgeHub allocates large chunks of memory, which causes out-of-memory failures, downstream devices that cannot connect, and telemetry that stops after a few hours.
                With OptimizeForPerformance=false Outpost's edgeHub runs one I/O thread, one store reader and a 256 KiB store cache.
                """, fix: fix, info: info)
        }
        if off { return .ok("OptimizeForPerformance is false for edgeHub (\(SystemFacts.bytes(memTotal)) of memory)", info: info) }
        return .ok("\(SystemFacts.bytes(memTotal)) of memory: not a constrained device", info: info)
    }
}
