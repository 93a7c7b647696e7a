import Twin
import EdgeDaemon

/// `connect-management-uri`: iotedged answers `GET /system/status` on its management socket.
public struct ConnectManagementURI: Checker {
    public let id = "connect-management-uri"
    public let description = "iotedged answers on its management socket"
    public let fix = "Start it: sudo iotedge system restart; then read why it stopped: sudo iotedge system logs"

    public init() {}

    public func run(_ context: CheckContext) async -> CheckResult {
        switch await context.daemonStatus() {
        case .success(let s):
            context.additionalInfo["iotedged_version"] = .string(s.version)
            return .ok("iotedged \(s.version), pid \(s.pid), on \(context.managementURI)",
                       info: ["pid": .number(Double(s.pid)), "version": .string(s.version)])
        case .failure(let e):
            return .failed("iotedged does not answer on \(context.managementURI): \(e.message).",
                           fix: "Start it: sudo iotedge system restart (or iotedged --config \(context.options.configPath)); then read why it stopped: sudo iotedge system logs")
        }
    }
}
