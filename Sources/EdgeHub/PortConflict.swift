import EdgeModule
import HubServer
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Seed 000's "Edge Hub can't start: port is already allocated", said with the process that
/// holds the port, found through /proc (the daemon and edgeHub run as root, as IoT Edge does).
public enum PortConflict {
    /// The lines to log when edgeHub cannot listen, naming each port that is taken and by whom.
    public static func explain(_ error: ListenError) -> [String] {
        let address = addressBytes(error.address)
        var lines: [String] = []
        for (port, use) in [(error.httpsPort, "HTTPS and MQTT over WebSocket"), (error.mqttPort, "MQTT")] {
            let finding = PortHolder.find(port: port, addresses: [address])
            guard !finding.isFree else { continue }
            let who = finding.holders.map { "pid \($0.pid) (\($0.commandLine.isEmpty ? "?" : $0.commandLine))" }
                + finding.unattributed.map { "a process this user cannot see, on \(PortHolder.format($0.address))" }
            lines.append("""
            Bind for \(error.address):\(port) failed: port is already allocated. It is held by \(who.joined(separator: ", ")). \
            Root cause: another process on the host is bound to port \(port), which edgeHub needs for \(use) in gateway scenarios. \
            Resolution: find and stop the process that is using port \(port) (usually a web server), or give the device another \
            hostname in config.toml for edgeHub to listen on; then: iotedge restart edgeHub
            """)
        }
        if lines.isEmpty {
            lines.append("Edge Hub cannot listen on \(error.address) (ports \(error.mqttPort) and \(error.httpsPort)): \(error.underlying). "
                         + "Check that \(error.address) (the hostname in config.toml) is an address of this device.")
        }
        return lines
    }

    /// The bytes of an IPv4 or IPv6 literal; anything else is treated as every address.
    static func addressBytes(_ text: String) -> [UInt8] {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return [0, 0, 0, 0]
    }
}
