import Twin
import EdgeDaemon

/// `host-connect-iothub-amqp`, `-https`, `-mqtt`: a TCP connection and TLS handshake to the
/// hub's port, trusting `trust_bundle_cert`. Outpost's hub speaks MQTT (8883) and HTTPS with
/// MQTT over WebSockets (443), not AMQP: 5671 refused is expected there and only a warning.
public struct HostConnectIoTHub: Checker {
    public enum Port: String, Sendable { case amqp, https, mqtt }

    public let port: Port
    public var id: String { "host-connect-iothub-\(port.rawValue)" }
    public var description: String { "host can connect to and perform TLS handshake with IoT Hub \(port.rawValue.uppercased()) port" }
    public var fix: String {
        "Check that the hub runs and that firewalls let this host reach it: outbound 443 (HTTPS, and MQTT over WebSockets), 8883 (MQTT) and, for Azure IoT Hub, 5671 (AMQP)"
    }

    public init(_ port: Port) { self.port = port }

    func number(_ httpsPort: Int) -> Int {
        switch port { case .amqp: 5671; case .mqtt: 8883; case .https: httpsPort }
    }

    public func run(_ context: CheckContext) async -> CheckResult {
        guard let host = context.hubHostname else { return .skipped("config.toml cannot be read and --iothub-hostname was not given.") }
        if case .failure = context.hubAddresses() { return .skipped("\(host) does not resolve; see host-connect-dns.") }
        let n = number(context.hubHTTPSPort)
        let outcome = await TLSProbe.handshake(host: host, port: n, trustPEM: context.config?.trustBundlePEM,
                                               timeout: context.options.timeout)
        context.tlsOutcomes[n] = outcome
        return assess(outcome, host: host, port: n, trustBundle: context.config?.trustBundlePath, timeout: context.options.timeout)
    }

    public func assess(_ outcome: TLSProbe.Outcome, host: String, port n: Int, trustBundle: String?, timeout: Double) -> CheckResult {
        let target = "\(host):\(n)"
        var info: [String: JSONValue] = ["host": .string(host), "port": .number(Double(n))]
        // The seed's agent that cannot reach the hub: what the network must allow.
        let network = "edgeAgent then logs that it cannot connect to IoT Hub and falls back from MQTT to MQTT over WebSockets; modules keep running but nothing reaches the hub."
        switch outcome {
        case .handshake(let ms):
            info["milliseconds"] = .number(Double(ms))
            return .ok("TLS handshake with \(target) in \(ms) ms", info: info)
        case .refused where port == .amqp:
            return .warning("nothing listens on \(target) (AMQP). An Outpost hub speaks MQTT and HTTPS only, so this is expected with one; edgeAgent and edgeHub connect over MQTT (8883) or MQTT over WebSockets (443).",
                            fix: "Nothing, with an Outpost hub (or --dont-run host-connect-iothub-amqp). With Azure IoT Hub, allow outbound 5671.", info: info)
        case .refused:
            return .failed("connection to \(target) refused: the hub does not run there, the host name or port is wrong, or a firewall rejects it. \(network)",
                           fix: fix, info: info)
        case .timedOut:
            return .failed("no answer from \(target) within \(Int(timeout)) s: a firewall drops the connection, or the host is down. \(network)",
                           fix: fix, info: info)
        case .tlsFailed(let why):
            return .failed("connected to \(target) but the TLS handshake failed: \(why). The hub's certificate must chain to \(trustBundle ?? "the system's CAs") and name \(host).",
                           fix: "Set trust_bundle_cert in config.toml to the hub's CA (ca.pem in the hub's data directory), then: sudo iotedge config apply", info: info)
        case .failed(let why):
            return .failed("cannot connect to \(target): \(why)", fix: fix, info: info)
        }
    }
}
