import ArgumentParser
import EdgeDaemon
import EdgeModule
import Foundation

/// The options every command that reaches the daemon takes.
struct TargetOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The daemon's config.toml.", valueName: "path"))
    var config: String?

    @Option(name: [.customShort("H"), .long], help: ArgumentHelp("The management socket (unix:///path); default: the config's [connect] management_uri.", valueName: "uri"))
    var host: String?
}

/// The daemon a command talks to: where its config is, what the config says (when it can be
/// read), and its management socket.
struct EdgeTarget {
    let configPath: String
    let config: EdgeConfig?
    /// Why the config could not be read, for commands that need it.
    let configError: String?
    let managementURI: String

    init(_ options: TargetOptions) throws {
        try self.init(config: options.config, host: options.host)
    }

    init(config path: String?, host: String?) throws {
        configPath = path ?? ProcessInfo.processInfo.environment["OUTPOST_EDGE_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
            ?? EdgePaths.defaultConfigFile()
        do {
            config = try EdgeConfig.load(path: configPath)
            configError = nil
        } catch {
            config = nil
            configError = "\(error)"
        }
        if let host {
            guard EdgeConfig.socketPath(host) != nil else {
                throw ValidationError("-H/--host \(host): use a unix:// URI with an absolute path, such as unix:///var/run/outpost/mgmt.sock")
            }
            managementURI = host
        } else {
            managementURI = config?.connect.managementURI ?? "unix://" + FileIO.join(EdgePaths.defaultHomeDirectory(), "mgmt.sock")
        }
    }

    /// The config, or an error that says why it cannot be read.
    func requireConfig() throws -> EdgeConfig {
        guard let config else { throw CLIFailure(configError ?? "cannot read \(configPath)") }
        return config
    }

    func client() throws -> ManagementClient {
        try ManagementClient(uri: managementURI, configPath: configPath)
    }

    /// The command that starts the daemon, for messages.
    var startHint: String { "sudo iotedge system restart (or iotedged --config \(configPath))" }
}

/// A failure with the sentence to print; the exit code is 1.
struct CLIFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func printJSON<T: Encodable>(_ value: T) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    if let data = try? encoder.encode(value) { print(String(decoding: data, as: UTF8.self)) }
}
