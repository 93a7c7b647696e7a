import ArgumentParser
import EdgeDaemon
import Foundation

/// `iotedge config apply|import|mp`: write and apply the daemon's config.toml.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Write and apply the IoT Edge configuration (config.toml).",
        subcommands: [ConfigApply.self, ConfigImport.self, ConfigMP.self])
}

struct ConfigApply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Validate a config file, make it the daemon's, and restart what changed; starts iotedged when it is not running.",
        discussion: "Without -c, the daemon's own config file (--config) is validated and applied again.")

    @OptionGroup var target: TargetOptions
    @Option(name: [.customShort("c"), .customLong("config-file")], help: ArgumentHelp("The config.toml to apply.", valueName: "path"))
    var file: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let edge = try EdgeTarget(target)
        let source = file ?? edge.configPath
        let parsed: EdgeConfig
        do { parsed = try EdgeConfig.load(path: source) } catch {
            throw CLIFailure("\(error)\nNothing was applied.")
        }
        if !json { print("\(source): the configuration is valid.") }
        if realPath(source) != realPath(edge.configPath) {
            guard let bytes = FileIO.read(source) else { throw CLIFailure("cannot read \(source)") }
            try FileIO.makeDirectories(FileIO.dirname(of: edge.configPath))
            // It holds the device's key: readable by its owner only.
            try FileIO.write(bytes, to: edge.configPath, mode: 0o600)
            if !json { print("Wrote \(edge.configPath).") }
        }
        for note in parsed.notes where !json { print("Note: \(note)") }
        let installed = try EdgeTarget(config: edge.configPath, host: target.host)
        if let before = try? await installed.client().status() {
            let result = try await installed.client().decode(ReloadResult.self, .POST, "/system/reload")
            if result.action == .restartingDaemon {
                if !json { print("Restarting iotedged:\n" + result.changes.map { "  " + $0 }.joined(separator: "\n")) }
                _ = try await DaemonLifecycle(edge: installed).waitForRestart(after: before.startTime)
            }
            if json { printJSON(result); return }
            switch result.action {
            case .none: print("iotedged already runs this configuration; nothing restarted.")
            case .restartedAgent: print("Restarted \(parsed.agent.name):\n" + result.changes.map { "  " + $0 }.joined(separator: "\n"))
            case .restartingDaemon: print("iotedged is running with the new configuration.")
            }
        } else {
            if json {
                try await DaemonLifecycle(edge: installed).startAndWait()
                printJSON(ReloadResult(action: .restartingDaemon, changes: ["started"]))
            } else {
                try await DaemonLifecycle(edge: installed).startAndWait()
            }
        }
    }

    private func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

struct ConfigImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn a legacy IoT Edge 1.0/1.1 config.yaml into config.toml.")

    @Option(name: [.customShort("i"), .customLong("config-file")], help: ArgumentHelp("The legacy config.yaml.", valueName: "path"))
    var input = "/etc/iotedge/config.yaml"
    @Option(name: [.customShort("o"), .customLong("out-config-file")], help: ArgumentHelp("Where to write config.toml (default: the daemon's config path).", valueName: "path"))
    var output: String?
    @Flag(help: "Overwrite an existing output file.") var force = false

    func run() async throws {
        let out = output ?? EdgePaths.defaultConfigFile()
        guard let text = FileIO.readText(input) else { throw CLIFailure("cannot read \(input): give the legacy config with -i") }
        let result: LegacyConfigImport.Result
        do { result = try LegacyConfigImport.convert(yaml: text) } catch {
            throw CLIFailure("\(input): \(error)\nNothing was written.")
        }
        if FileIO.exists(out), !force { throw CLIFailure("\(out) exists: add --force to overwrite it") }
        try FileIO.makeDirectories(FileIO.dirname(of: out))
        try FileIO.write(result.toml, to: out, mode: 0o600)
        do { _ = try EdgeConfig.load(path: out) } catch {
            throw CLIFailure("\(out) was written but does not validate:\n\(error)")
        }
        for note in result.notes { print("Note: \(note)") }
        print("Imported \(input) into \(out).\nTo apply the new configuration: sudo iotedge config apply")
    }
}

/// `iotedge config mp -c CONNECTION_STRING`: manual provisioning in one command.
struct ConfigMP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mp",
        abstract: "Write a config.toml that provisions this device manually with a connection string.")

    @Option(name: [.customShort("c"), .customLong("connection-string")], help: "The device's connection string (HostName=…;DeviceId=…;SharedAccessKey=…).")
    var connectionString: String
    @Option(name: [.customShort("o"), .customLong("out-config-file")], help: ArgumentHelp("Where to write config.toml (default: the daemon's config path).", valueName: "path"))
    var output: String?
    @Flag(help: "Overwrite an existing output file.") var force = false

    func run() async throws {
        let out = output ?? EdgePaths.defaultConfigFile()
        let toml = """
        # Written by `iotedge config mp`.
        [provisioning]
        source = "manual"
        connection_string = \(TOMLText.string(connectionString))

        """
        do { _ = try EdgeConfig.parse(toml, file: out) } catch {
            throw CLIFailure("\(error.message)\n\(error.fix)\nNothing was written.")
        }
        if FileIO.exists(out), !force { throw CLIFailure("\(out) exists: add --force to overwrite it") }
        try FileIO.makeDirectories(FileIO.dirname(of: out))
        try FileIO.write(toml, to: out, mode: 0o600)
        print("Wrote \(out) (manual provisioning, readable by its owner only).\nTo apply the new configuration: sudo iotedge config apply")
    }
}
