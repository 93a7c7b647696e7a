import Twin
import EdgeDaemon
import Foundation
import X509

/// `edge-ca-certificate-expiry`: the edge CA in `<homedir>/certs`, which signs edgeHub's
/// server certificate, is not expired or about to. iotedged makes a new one when it starts with
/// less than a day left.
public struct EdgeCAExpiry: Checker {
    public let id = "edge-ca-certificate-expiry"
    public let description = "production readiness: edge CA certificate expiry"
    public let fix = "Restart iotedged to renew it (sudo iotedge system restart); to renew earlier, remove edge-ca.pem and edge-ca.key.pem first"

    public init() {}

    public func run(_ context: CheckContext) async -> CheckResult {
        guard let config = context.config else { return .skipped("config.toml cannot be read; see config-toml-well-formed.") }
        let path = EdgeCAFiles(homeDirectory: config.homeDirectory).certificate
        guard let pem = FileIO.readText(path) else {
            return .warning("there is no edge CA at \(path) yet: iotedged makes it when it first starts.",
                            fix: "Start iotedged: sudo iotedge system restart")
        }
        let certificate: Certificate
        do { certificate = try Certificate(pemEncoded: pem) } catch {
            return .failed("\(path) is not a PEM certificate: \(error)", fix: fix)
        }
        let end = certificate.notValidAfter.timeIntervalSince1970
        let info: [String: JSONValue] = ["path": .string(path), "expiration": .string(RFC3339.format(end, fractionDigits: 0))]
        return Self.assess(notAfter: end, now: Date().timeIntervalSince1970, path: path, fix: fix, info: info)
    }

    /// Failed when expired, a warning with less than 7 days left.
    public static func assess(notAfter: Double, now: Double, path: String, fix: String, info: [String: JSONValue] = [:]) -> CheckResult {
        let left = notAfter - now
        let until = RFC3339.format(notAfter, fractionDigits: 0)
        if left <= 0 {
            return .failed("the edge CA \(path) expired at \(until): modules no longer trust edgeHub's certificate.", fix: fix, info: info)
        }
        if left < 7 * 86_400 {
            return .warning("the edge CA \(path) expires at \(until), in \(EdgeDaemon.duration(left)).", fix: fix, info: info)
        }
        return .ok("\(path) is valid until \(until) (\(EdgeDaemon.duration(left)))", info: info)
    }
}

/// Where iotedged keeps its edge CA (`EdgeCA.loadOrCreate(directory: <homedir>/certs)`).
struct EdgeCAFiles {
    var certificate: String
    var key: String
    init(homeDirectory: String) {
        let dir = FileIO.join(homeDirectory, "certs")
        certificate = FileIO.join(dir, "edge-ca.pem")
        key = FileIO.join(dir, "edge-ca.key.pem")
    }
}
