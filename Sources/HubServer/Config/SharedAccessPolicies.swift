import Foundation
import IoTProtocol

/// The hub's shared access policies. `iothubowner` may do everything; its key lives in
/// `policies/iothubowner.key` (mode 0600) and signs the service connection string.
public struct SharedAccessPolicies: Sendable {
    public static let owner = "iothubowner"
    public let keys: [String: String]

    public static func loadOrCreate(in config: HubConfiguration) throws -> SharedAccessPolicies {
        let dir = config.file("policies")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var keys: [String: String] = [:]
        for name in [owner] {
            let url = dir.appendingPathComponent("\(name).key")
            if FileManager.default.fileExists(atPath: url.path) {
                keys[name] = try SecretFile.read(url).trimmingCharacters(in: .whitespacesAndNewlines)
            } else {
                let key = SymmetricKeyGenerator.make()
                try SecretFile.write(key + "\n", to: url)
                keys[name] = key
            }
        }
        return SharedAccessPolicies(keys: keys)
    }

    public func key(named name: String) -> String? { keys[name] }

    public func serviceConnectionString(host: String) -> ConnectionString {
        ConnectionString(hostName: host, sharedAccessKeyName: Self.owner, sharedAccessKey: keys[Self.owner])
    }
}
