import Crypto
import EdgeDaemon
import X509

/// `certs-match-private-keys`: the edge CA certificate carries the public key of the private
/// key beside it; otherwise every certificate it issues fails verification.
public struct CertsMatchPrivateKeys: Checker {
    public let id = "certs-match-private-keys"
    public let description = "the edge CA certificate matches its private key"
    public let fix = "Remove edge-ca.pem and edge-ca.key.pem from <homedir>/certs and restart iotedged (sudo iotedge system restart): it makes a new pair"

    public init() {}

    public func run(_ context: CheckContext) async -> CheckResult {
        guard let config = context.config else { return .skipped("config.toml cannot be read; see config-toml-well-formed.") }
        let files = EdgeCAFiles(homeDirectory: config.homeDirectory)
        guard let certText = FileIO.readText(files.certificate) else {
            return .skipped("there is no edge CA at \(files.certificate); see edge-ca-certificate-expiry.")
        }
        guard let keyText = FileIO.readText(files.key) else {
            return .failed("cannot read the edge CA's key \(files.key)\(FileIO.exists(files.key) ? " (it is readable by root only)" : ": it is missing").",
                           fix: FileIO.exists(files.key) ? "Run the check as root: sudo iotedge check" : fix)
        }
        let certificate: Certificate, key: P256.Signing.PrivateKey
        do {
            certificate = try Certificate(pemEncoded: certText)
            key = try P256.Signing.PrivateKey(pemRepresentation: keyText)
        } catch {
            return .failed("the edge CA files cannot be read: \(error)", fix: fix)
        }
        guard Self.matches(certificate, key) else {
            return .failed("\(files.certificate) does not hold the public key of \(files.key).", fix: fix)
        }
        return .ok("\(files.certificate) matches \(files.key)")
    }

    public static func matches(_ certificate: Certificate, _ key: P256.Signing.PrivateKey) -> Bool {
        certificate.publicKey == Certificate.PublicKey(key.publicKey)
    }
}
