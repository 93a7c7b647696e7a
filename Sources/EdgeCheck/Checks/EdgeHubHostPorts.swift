import Twin
import EdgeDaemon
import EdgeModule

/// `edgehub-host-ports`: edgeHub can listen on its ports (8883 and 443) on the gateway host:
/// they are free, or held by this device's edgeHub. Otherwise it names the process that holds
/// them (seed 000: "Edge Hub fails to start … Bind for 0.0.0.0:443 failed: port is already
/// allocated"; "find and stop the process that is using port 443. This process is usually a
/// web server.").
public struct EdgeHubHostPorts: Checker {
    public let id = "edgehub-host-ports"
    public let description = "Edge Hub can bind to ports on host"
    public let fix = "Stop the process that holds the port or move it to another port, then: iotedge restart edgeHub"

    public init() {}

    public func run(_ context: CheckContext) async -> CheckResult {
        guard case .loaded(let config) = context.configState else {
            return .skipped("the gateway host name is not known; see config-toml-well-formed and hostname.")
        }
        let addresses: [[UInt8]]
        switch Resolver.resolve(config.hostname) {
        case .success(let a): addresses = a
        case .failure(let e): return .skipped("\(e.message); see hostname.")
        }
        let env = await context.environment(of: "edgeHub") ?? [:]
        let ports = [Int(env["OUTPOST_EDGEHUB_MQTT_PORT"] ?? "") ?? 8883, Int(env["OUTPOST_EDGEHUB_HTTPS_PORT"] ?? "") ?? 443]
        var problems: [String] = [], fine: [String] = [], info: [String: JSONValue] = [:]
        for port in ports {
            let finding = PortHolder.find(port: port, addresses: addresses, proc: context.options.proc)
            let isEdgeHub = { (pid: Int32) in
                Self.isEdgeHub(ProcessEnvironment.read(pid: pid, proc: context.options.proc), workloadURI: config.connect.workloadURI)
            }
            let verdict = Self.assess(finding, port: port, host: config.hostname, isEdgeHub: isEdgeHub)
            info[String(port)] = .string(verdict.holder)
            if let problem = verdict.problem { problems.append(problem) } else { fine.append(verdict.summary) }
        }
        guard problems.isEmpty else { return CheckResult(.failed, problems + ["Fix: \(fix)"], info: info) }
        return .ok(fine.joined(separator: "; "), info: info)
    }

    public struct Verdict: Equatable {
        /// "free", "edgeHub (pid N)", or the foreign holder.
        public var holder: String
        public var summary: String
        public var problem: String?
    }

    /// Free or edgeHub's is fine; anyone else's is a problem naming pid and command line.
    public static func assess(_ finding: PortHolder.Finding, port: Int, host: String, isEdgeHub: (Int32) -> Bool) -> Verdict {
        let target = "\(host):\(port)"
        if finding.isFree { return Verdict(holder: "free", summary: "\(target) is free", problem: nil) }
        let foreign = finding.holders.filter { !isEdgeHub($0.pid) }
        if foreign.isEmpty, finding.unattributed.isEmpty, let hub = finding.holders.first {
            return Verdict(holder: "edgeHub (pid \(hub.pid))", summary: "\(target) is edgeHub's (pid \(hub.pid))", problem: nil)
        }
        if let other = foreign.first {
            let bound = "\(PortHolder.format(other.socket.address)):\(other.socket.port)"
            let cmd = other.commandLine.isEmpty ? "(no command line)" : other.commandLine
            return Verdict(holder: "pid \(other.pid): \(cmd)", summary: "",
                           problem: "\(target) is held by pid \(other.pid) (\(cmd)), listening on \(bound): edgeHub cannot listen there, so modules and downstream devices cannot connect to it. This process is usually a web server.")
        }
        let socket = finding.unattributed[0]
        return Verdict(holder: "unknown", summary: "",
                       problem: "\(target) is held by a process this user cannot see (socket inode \(socket.inode) on \(PortHolder.format(socket.address))): edgeHub cannot listen there. Run sudo iotedge check, or ss -ltnp, to name it.")
    }

    /// edgeHub as this device's iotedged started it: its module id and this daemon's workload socket.
    static func isEdgeHub(_ env: [String: String]?, workloadURI: String) -> Bool {
        guard let env else { return false }
        return env["IOTEDGE_MODULEID"] == "$edgeHub" && env["IOTEDGE_WORKLOADURI"] == workloadURI
    }
}
