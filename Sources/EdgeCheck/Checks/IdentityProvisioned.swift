import Twin
import EdgeDaemon

/// `identity-provisioned`: the daemon got the device's module identities from the hub with the
/// device key, so the key is the hub's and the hub is reachable.
public struct IdentityProvisioned: Checker {
    public let id = "identity-provisioned"
    public let description = "the device identity is provisioned on the hub"
    public let fix = "Check that the device exists on the hub (iothub device show <device>) and that the connection string is its current one, then: sudo iotedge system reprovision"

    public init() {}

    public func run(_ context: CheckContext) async -> CheckResult {
        let status: SystemStatus
        switch await context.daemonStatus() {
        case .success(let s): status = s
        case .failure(let e): return context.daemonSkip(e)
        }
        guard let identity = status.services.first(where: { $0.name == "identity" }) else {
            return .failed("iotedged reports no identity service.", fix: "Upgrade iotedged to the version of this iotedge.")
        }
        let info: [String: JSONValue] = ["status": .string(identity.status), "detail": .string(identity.detail)]
        if identity.status == "Provisioning" {
            return .warning("identity is still being provisioned: \(identity.detail).",
                            fix: "Run the check again in a few seconds; if it stays so, the hub cannot be reached (see the host-connect-* checks).", info: info)
        }
        guard identity.status == "Ready" else {
            return .failed("identity is \(identity.status): \(identity.detail)",
                           fix: "\(fix). If the hub cannot be reached, the host-connect-* checks below say why.", info: info)
        }
        return .ok(identity.detail, info: info)
    }
}
