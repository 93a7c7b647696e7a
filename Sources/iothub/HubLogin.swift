import ArgumentParser
import Foundation
import HubServer
import IoTProtocol

/// How an admin command finds the hub: `--data-dir` (reads hub.json, the owner key and ca.pem)
/// or `--login` with a service connection string (then `--ca` or REQUESTS_CA_BUNDLE gives the
/// CA, else the system's trust store is used).
struct HubLogin: ParsableArguments {
    @Option(help: "The hub's data directory (as given to iothub serve).")
    var dataDir: String?

    @Option(help: "A service connection string (HostName=…;SharedAccessKeyName=…;SharedAccessKey=…).")
    var login: String?

    @Option(help: "PEM file of the CA that signed the hub's certificate (with --login).")
    var ca: String?

    @Option(help: "The hub's HTTPS port (with --login; default 443).")
    var httpsPort: Int?

    struct Resolved {
        var connectionString: ConnectionString
        var httpsPort: Int
        var caPEM: String?
        var host: String { connectionString.hostName }
    }

    func resolve() throws -> Resolved {
        if let login {
            let cs: ConnectionString
            do { cs = try ConnectionString(parsing: login) } catch {
                throw CLIError("--login: \(error.description)")
            }
            guard cs.sharedAccessKeyName != nil else {
                throw CLIError("--login needs a service connection string with SharedAccessKeyName=… (iothub connection-string prints one).")
            }
            let caPath = ca ?? ProcessInfo.processInfo.environment["REQUESTS_CA_BUNDLE"]
            let pem = try caPath.map { path in
                do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
                    throw CLIError("cannot read the CA file \(path): \(error.localizedDescription)")
                }
            }
            return Resolved(connectionString: cs, httpsPort: httpsPort ?? 443, caPEM: pem)
        }
        let dir = URL(fileURLWithPath: dataDir ?? HubConfiguration.defaultDataDirectory.path)
        let endpoint: HubEndpointFile
        do { endpoint = try HubEndpointFile.read(from: dir.appendingPathComponent("hub.json")) } catch {
            throw CLIError("no hub in \(dir.path): start one with `iothub serve --data-dir \(dir.path)`, or pass --login.")
        }
        let keyPath = dir.appendingPathComponent("policies/\(SharedAccessPolicies.owner).key").path
        let key: String
        do { key = try String(contentsOfFile: keyPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) } catch {
            throw CLIError("cannot read the policy key \(keyPath): \(error.localizedDescription). Run as the user that runs the hub.")
        }
        let caPEM = try? String(contentsOfFile: dir.appendingPathComponent("ca.pem").path, encoding: .utf8)
        let cs = ConnectionString(hostName: endpoint.host, sharedAccessKeyName: SharedAccessPolicies.owner, sharedAccessKey: key)
        return Resolved(connectionString: cs, httpsPort: httpsPort ?? endpoint.httpsPort, caPEM: caPEM)
    }
}

/// `--output table|json`.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

/// `--json`, the spelling every reporting command shares, and `--output table|json`, kept for
/// scripts written against the first commands.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON for programs instead of a table.") var json = false
    @Option(help: "table or json (the same as --json).") var output: OutputFormat = .table

    var format: OutputFormat { json ? .json : output }
}

/// `--primary-key` and `--secondary-key` of the create and update commands.
struct SymmetricKeyOptions: ParsableArguments {
    @Option(help: "Base64 primary key (default: generated on create, kept on update).")
    var primaryKey: String?

    @Option(help: "Base64 secondary key (default: generated on create, kept on update).")
    var secondaryKey: String?

    /// The `authentication` object of a registry body, or nil to let the hub choose.
    var authentication: [String: Any]? {
        guard primaryKey != nil || secondaryKey != nil else { return nil }
        var keys: [String: Any] = [:]
        if let primaryKey { keys["primaryKey"] = primaryKey }
        if let secondaryKey { keys["secondaryKey"] = secondaryKey }
        return ["type": "sas", "symmetricKey": keys]
    }
}
