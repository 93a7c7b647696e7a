import ArgumentParser
import Foundation
import IoTProtocol

/// Which broker to load and how to reach it; shared by every scenario.
struct TargetOptions: ParsableArguments {
    @Option(help: "Broker address to connect to.")
    var host = "127.0.0.1"

    @Option(help: "Broker MQTT port (default 8883 with --tls, else 1883).")
    var port: Int?

    @Flag(help: "MQTT over TLS.")
    var tls = false

    @Option(help: "PEM file of the CA that signed the broker's certificate (default with --data-dir: its ca.pem).")
    var ca: String?

    @Option(help: "sas (Outpost: devices are created through the REST registry and sign SAS tokens) or anonymous (Mosquitto). Default: sas with --data-dir or --login, else anonymous.")
    var auth: AuthMode?

    @Option(help: "Outpost's data directory: hub.json, the iothubowner key and ca.pem are read from it.")
    var dataDir: String?

    @Option(help: "Outpost service connection string (HostName=…;SharedAccessKeyName=…;SharedAccessKey=…) instead of --data-dir.")
    var login: String?

    @Option(help: "Outpost's HTTPS port for the registry, methods and events (default: from hub.json, else 443).")
    var httpsPort: Int?

    @Option(help: "Process id of the broker, to report its resident memory (VmRSS) and Pss.")
    var serverPid: Int32?

    @Option(name: .customLong("source-address"), help: "Local address to connect from; repeat to spread connections over several (more than ~28,000 per address need it).")
    var sourceAddresses: [String] = []

    @Option(help: "Event loop threads of the load generator.")
    var threads = 1

    @Option(help: "A name for the broker in the report (e.g. outpost, mosquitto).")
    var label: String?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    enum AuthMode: String, ExpressibleByArgument, CaseIterable { case sas, anonymous }

    func validate() throws {
        if let port, !(1...65535).contains(port) { throw ValidationError("--port \(port) is not a port number (1 to 65535).") }
        if let httpsPort, !(1...65535).contains(httpsPort) { throw ValidationError("--https-port \(httpsPort) is not a port number.") }
        if !(1...64).contains(threads) { throw ValidationError("--threads must be 1 to 64.") }
        if auth == .sas, dataDir == nil, login == nil {
            throw ValidationError("--auth sas needs --data-dir (the hub's) or --login (a service connection string) to create devices.")
        }
        if dataDir != nil, login != nil { throw ValidationError("give --data-dir or --login, not both.") }
        if ca != nil, !tls, service == nil { throw ValidationError("--ca is only used with --tls or with Outpost's HTTPS API.") }
    }

    private var service: String? { dataDir ?? login }

    /// Everything resolved and read from disk; errors say which file or value is wrong.
    func resolve() throws -> BenchTarget {
        var serviceLogin: ServiceLogin?
        if let dataDir {
            serviceLogin = try ServiceLogin.fromDataDirectory(dataDir, httpsPort: httpsPort)
        } else if let login {
            serviceLogin = try ServiceLogin.fromConnectionString(login, httpsHost: host, httpsPort: httpsPort ?? 443,
                                                                 caPEM: try ca.map(Self.readCA))
        }
        let caPath = ca ?? dataDir.map { URL(fileURLWithPath: $0).appendingPathComponent("ca.pem").path }
        let caPEM = tls ? try caPath.map(Self.readCA) : nil
        if tls && caPEM == nil { throw ValidationError("--tls needs --ca FILE (the CA that signed the broker's certificate).") }
        let mode = auth ?? (serviceLogin == nil ? .anonymous : .sas)
        return BenchTarget(host: host, port: port ?? (tls ? 8883 : 1883), caPEM: caPEM, auth: mode,
                           service: serviceLogin, serverPid: serverPid, sourceAddresses: sourceAddresses,
                           threads: threads, label: label ?? (serviceLogin == nil ? host : "outpost"))
    }

    static func readCA(_ path: String) throws -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ValidationError("cannot read the CA file \(path): \(error.localizedDescription)")
        }
    }
}

/// The resolved target of one run.
struct BenchTarget {
    var host: String
    var port: Int
    var caPEM: String?
    var auth: TargetOptions.AuthMode
    var service: ServiceLogin?
    var serverPid: Int32?
    var sourceAddresses: [String]
    var threads: Int
    var label: String

    /// The name devices put in SAS resources and user names.
    var hubName: String { service?.hubName ?? host }
}

/// How the bench reaches Outpost's service API: the hub's name, HTTPS endpoint, a policy key.
struct ServiceLogin {
    var hubName: String
    var httpsHost: String
    var httpsPort: Int
    var policyName: String
    var policyKey: String
    var caPEM: String?

    private struct EndpointFile: Decodable { var host: String; var httpsPort: Int }

    static func fromDataDirectory(_ path: String, httpsPort: Int?) throws -> ServiceLogin {
        let dir = URL(fileURLWithPath: path)
        let endpoint: EndpointFile
        do { endpoint = try JSONDecoder().decode(EndpointFile.self, from: Data(contentsOf: dir.appendingPathComponent("hub.json"))) } catch {
            throw ValidationError("no hub in \(path) (cannot read hub.json): start one with `iothub serve --data-dir \(path)`.")
        }
        let keyPath = dir.appendingPathComponent("policies/iothubowner.key").path
        let key: String
        do { key = try String(contentsOfFile: keyPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) } catch {
            throw ValidationError("cannot read the policy key \(keyPath): \(error.localizedDescription). Run as the user that runs the hub.")
        }
        let ca = try? String(contentsOfFile: dir.appendingPathComponent("ca.pem").path, encoding: .utf8)
        return ServiceLogin(hubName: endpoint.host, httpsHost: endpoint.host, httpsPort: httpsPort ?? endpoint.httpsPort,
                            policyName: "iothubowner", policyKey: key, caPEM: ca)
    }

    static func fromConnectionString(_ text: String, httpsHost: String, httpsPort: Int, caPEM: String?) throws -> ServiceLogin {
        let cs: ConnectionString
        do { cs = try ConnectionString(parsing: text) } catch { throw ValidationError("--login: \(error.description)") }
        guard let name = cs.sharedAccessKeyName, let key = cs.sharedAccessKey else {
            throw ValidationError("--login needs a service connection string with SharedAccessKeyName=… (iothub connection-string prints one).")
        }
        return ServiceLogin(hubName: cs.hostName, httpsHost: httpsHost, httpsPort: httpsPort, policyName: name, policyKey: key, caPEM: caPEM)
    }
}
