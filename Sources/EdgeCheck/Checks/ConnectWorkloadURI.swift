import Twin
import EdgeDaemon

/// `connect-workload-uri`: the workload socket, which every module uses for its tokens and
/// edgeHub for its certificate, answers with the trust bundle.
public struct ConnectWorkloadURI: Checker {
    public let id = "connect-workload-uri"
    public let description = "iotedged answers on its workload socket"
    public let fix = "Restart iotedged (sudo iotedge system restart) and check [connect] workload_uri in config.toml"

    public init() {}

    struct Bundle: Decodable { var certificate: String }

    public func run(_ context: CheckContext) async -> CheckResult {
        guard let config = context.config else { return .skipped("config.toml cannot be read; see config-toml-well-formed.") }
        if case .failure(let e) = await context.daemonStatus() { return context.daemonSkip(e) }
        let uri = config.connect.workloadURI
        let answer: Result<Bundle, ProbeError> = await context.fetch(uri, "/trust-bundle")
        switch answer {
        case .success(let b) where b.certificate.contains("BEGIN CERTIFICATE"):
            return .ok("\(uri) serves the trust bundle", info: ["uri": .string(uri)])
        case .success:
            return .failed("\(uri) answered an empty trust bundle: the edge CA was not created.",
                           fix: "Read why: sudo iotedge system logs; then sudo iotedge system restart")
        case .failure(let e):
            return .failed("\(uri) does not answer: \(e.message); modules cannot get tokens or certificates.", fix: fix)
        }
    }
}
