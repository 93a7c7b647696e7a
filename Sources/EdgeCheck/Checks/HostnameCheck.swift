import Twin
import EdgeDaemon

/// `hostname`: the device's `hostname` is at most 64 characters and follows RFC 1035 (seed 000:
/// "IoT Edge security daemon fails with an invalid hostname"), and resolves, so that modules
/// and downstream devices reach edgeHub by it.
public struct HostnameCheck: Checker {
    public let id = "hostname"
    public let description = "config.toml has a valid hostname"
    public let fix = "Set hostname = \"…\" in config.toml to a name of 1 to 64 characters (letters, digits, '-', dot-separated), such as a VM's DNS name label, then: sudo iotedge config apply"

    public init() {}

    public func run(_ context: CheckContext) async -> CheckResult {
        switch context.configState {
        case .badHostname(_, let error):
            var where_ = error.file
            if let line = error.line { where_ += ":\(line)" }
            var details = ["\(where_): \(error.message)"]
            if let line = error.line, let text = error.lineText { details.append("    \(line) | \(text)") }
            details.append("Fix: \(error.fix)")
            return CheckResult(.failed, details)
        case .loaded(let config):
            if let problem = Hostname.validate(config.hostname) {
                return .failed("\(config.hostname): \(problem)", fix: fix)
            }
            if case .failure(let e) = Resolver.resolve(config.hostname) {
                return .warning("\(e.message): modules and downstream devices cannot reach edgeHub by this name.",
                                fix: "Add it to DNS or /etc/hosts, or set hostname to a name or address that resolves to this device.")
            }
            return .ok("\(config.hostname) is valid and resolves", info: ["hostname": .string(config.hostname)])
        case .unreadable, .invalid:
            return .skipped("config.toml cannot be read; see config-toml-well-formed.")
        }
    }
}
