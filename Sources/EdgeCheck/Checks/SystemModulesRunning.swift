import Twin
import EdgeDaemon

/// `system-modules-running`: edgeAgent and edgeHub run. edgeAgent is the daemon's (from
/// `[agent]`); edgeHub comes from the deployment's systemModules.
public struct SystemModulesRunning: Checker {
    public let id = "system-modules-running"
    public let description = "edgeAgent and edgeHub are running"
    public let fix = "Read why: iotedge logs <module>; restart it: iotedge restart <module>"

    public init() {}

    public func run(_ context: CheckContext) async -> CheckResult {
        let modules: [ModuleDetailsJSON]
        switch await context.modules() {
        case .success(let m): modules = m
        case .failure(let e): return context.daemonSkip(e)
        }
        let agent = context.config?.agent.name ?? "edgeAgent"
        var problems: [String] = [], fixes: [String] = [], info: [String: JSONValue] = [:]
        for name in [agent, "edgeHub"] {
            guard let m = modules.first(where: { $0.name == name }) else {
                info[name] = "absent"
                problems.append("\(name) is not on this device.")
                fixes.append(name == agent
                    ? "iotedged starts \(name) from [agent] in config.toml: sudo iotedge system logs says why it did not."
                    : "Deploy it: the deployment's systemModules.edgeHub (iothub edge set-modules <device> --content <manifest>); edgeAgent reports what it did in its twin.")
                continue
            }
            let status = m.status.runtimeStatus.status
            info[name] = .string(status)
            guard status == "running" else {
                problems.append("\(name) is \(m.status.listStatus ?? status)\(m.status.summary.map { ": \($0)" } ?? "").")
                fixes.append("iotedge logs \(name) says why; iotedge restart \(name) starts it again.")
                continue
            }
        }
        guard problems.isEmpty else { return CheckResult(.failed, problems + fixes.map { "Fix: \($0)" }, info: info) }
        return .ok("\(agent) and edgeHub are running", info: info)
    }
}
