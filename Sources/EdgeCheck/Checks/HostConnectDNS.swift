import Twin
import EdgeDaemon
import EdgeModule

/// `host-connect-dns`: the hub's host name resolves on this host.
public struct HostConnectDNS: Checker {
    public let id = "host-connect-dns"
    public let description = "host can resolve the IoT Hub host name"
    public let fix = "Check the hub's name in the connection string and this host's DNS (/etc/resolv.conf, or an entry in /etc/hosts)"

    public init() {}

    public func run(_ context: CheckContext) async -> CheckResult {
        guard let host = context.hubHostname else { return .skipped("config.toml cannot be read and --iothub-hostname was not given.") }
        switch context.hubAddresses() {
        case .success(let addresses):
            let text = addresses.map(PortHolder.format)
            return .ok(Hostname.isIPAddress(host) ? "\(host) is an IP address" : "\(host) is \(text.joined(separator: ", "))",
                       info: ["hostname": .string(host), "addresses": .array(text.map(JSONValue.string))])
        case .failure(let e):
            return .failed("\(e.message): iotedged, edgeAgent and edgeHub cannot reach the hub.", fix: fix)
        }
    }
}
