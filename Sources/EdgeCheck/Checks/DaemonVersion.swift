import Twin
import EdgeDaemon

/// `iotedged-version`: edgelet compares the daemon with the newest release it can download.
/// An Outpost hub publishes no release version (its REST API has no such endpoint), so this
/// compares iotedged with this iotedge, which ship together: a mismatch means a half-done
/// upgrade.
public struct DaemonVersion: Checker {
    public let id = "iotedged-version"
    public let description = "iotedged is the same version as iotedge"
    public let fix = "Install iotedge and iotedged from the same Outpost build, then: sudo iotedge system restart"

    public init() {}

    public func run(_ context: CheckContext) async -> CheckResult {
        let daemon: String
        switch await context.daemonStatus() {
        case .success(let s): daemon = s.version
        case .failure(let e): return context.daemonSkip(e)
        }
        let cli = EdgeDaemonVersion.text
        let info: [String: JSONValueConvertible] = ["iotedged": daemon, "iotedge": cli]
        guard daemon == cli else {
            return .warning("iotedged is \(daemon) but iotedge is \(cli): one of them was upgraded without the other, or the old daemon still runs.",
                            fix: fix, info: info.json)
        }
        return .ok("iotedged and iotedge are both \(cli); the hub publishes no newer release to compare with", info: info.json)
    }
}
