import Twin
import EdgeDaemon

/// `host-local-time`: this host's clock agrees with the hub's. SAS tokens carry an expiry the
/// hub checks against its own clock, so a host far off gets its tokens refused; certificates
/// look not yet valid or expired.
public struct HostLocalTime: Checker {
    public let id = "host-local-time"
    public let description = "host time is close to the IoT Hub's time"
    public let fix = "Synchronise the clock: timedatectl set-ntp true (or run chrony / ntpd)"

    public init() {}

    public func run(_ context: CheckContext) async -> CheckResult {
        guard let host = context.hubHostname else { return .skipped("config.toml cannot be read and --iothub-hostname was not given.") }
        let port = context.hubHTTPSPort
        if let outcome = context.tlsOutcomes[port], !outcome.isHandshake {
            return .skipped("\(host):\(port) does not answer; see host-connect-iothub-https.")
        }
        switch await HubClock.read(host: host, port: port, trustPEM: context.config?.trustBundlePEM, timeout: context.options.timeout) {
        case .success(let reading): return Self.assess(reading, fix: fix)
        case .failure(let e):
            return .failed("cannot read the hub's time: \(e.message)", fix: "Check the hub's HTTPS port (host-connect-iothub-https).")
        }
    }

    /// A warning past 10 s, failed past 5 minutes (beyond what token lifetimes absorb); the
    /// measurement's own uncertainty is given to the host.
    public static func assess(_ r: HubClock.Reading, fix: String) -> CheckResult {
        let off = max(0, abs(r.skew) - r.uncertainty)
        let direction = r.skew > 0 ? "ahead of" : "behind"
        let info: [String: JSONValue] = ["skew_seconds": .number((r.skew * 10).rounded() / 10), "source": .string(r.source)]
        let text = "this host is \(Int(abs(r.skew).rounded())) s \(direction) the hub (from the hub's \(r.source))"
        if off > 300 {
            return .failed("\(text): the hub refuses SAS tokens and TLS certificates look invalid at that distance.", fix: fix, info: info)
        }
        if off > 10 { return .warning("\(text).", fix: fix, info: info) }
        return .ok("within \(Int(r.uncertainty.rounded(.up))) s of the hub's clock (\(r.source))", info: info)
    }
}
