import ArgumentParser
import EdgeDaemon

/// The 2017 preview's `iotedgectl setup|restart|login` (seed 002), on today's daemon.
struct LegacyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "legacy",
        abstract: "The IoT Edge preview's iotedgectl commands (setup, restart, login), as `iotedgectl` runs them.",
        subcommands: [LegacySetup.self, LegacyRestart.self, LegacyLogin.self])
}

struct LegacySetup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setup",
        abstract: "Write the device's config: its connection string and the runtime log level (RuntimeLogLevel of edgeAgent and edgeHub).",
        discussion: "Then `iotedgectl restart` applies it, as in the preview.")

    @OptionGroup var target: TargetOptions
    @Option(name: .customLong("connection-string"), help: "The device's connection string (needed when there is no config yet).")
    var connectionString: String?
    @Option(name: .customLong("runtime-log-level"), help: "fatal, error, warning, info, debug or verbose (the preview's DEBUG works too).")
    var runtimeLogLevel: String?

    func validate() throws {
        if let level = runtimeLogLevel, EdgeLogLevel.parse(level) == nil {
            throw ValidationError("--runtime-log-level \(level): use fatal, error, warning, info, debug or verbose")
        }
        if connectionString == nil, runtimeLogLevel == nil {
            throw ValidationError("give --connection-string, --runtime-log-level or both")
        }
    }

    func run() async throws {
        let edge = try EdgeTarget(target)
        var text: String
        if let existing = FileIO.readText(edge.configPath) {
            text = existing
            if let cs = connectionString { text = ConfigText.setting(text, section: "provisioning", key: "connection_string", value: cs) }
        } else {
            guard let cs = connectionString else {
                throw CLIFailure("\(edge.configPath) does not exist: give --connection-string to create it")
            }
            text = "[provisioning]\nsource = \"manual\"\nconnection_string = \(TOMLText.string(cs))\n"
        }
        if let level = runtimeLogLevel.flatMap(EdgeLogLevel.parse) {
            text = ConfigText.setting(text, section: "agent.env", key: "RuntimeLogLevel", value: EdgeLogLevel.name(level))
        }
        do { _ = try EdgeConfig.parse(text, file: edge.configPath) } catch {
            throw CLIFailure("\(error)\nNothing was written.")
        }
        try FileIO.makeDirectories(FileIO.dirname(of: edge.configPath))
        try FileIO.write(text, to: edge.configPath, mode: 0o600)
        if let level = runtimeLogLevel.flatMap(EdgeLogLevel.parse), let config = try? EdgeConfig.parse(text, file: edge.configPath) {
            try LogLevelSetting.persist(level, homeDirectory: config.homeDirectory)
            print("Runtime log level: \(EdgeLogLevel.name(level)) (iotedged, and edgeAgent's RuntimeLogLevel).")
        }
        print("Wrote \(edge.configPath). Apply it with: iotedgectl restart")
    }
}

struct LegacyRestart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart",
        abstract: "Restart the runtime with its config (iotedge system restart); starts it when it is not running.")

    @OptionGroup var target: TargetOptions

    func run() async throws {
        var restart = SystemRestart()
        restart.target = target
        try await restart.run()
    }
}

struct LegacyLogin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Keep registry credentials for module images fetched from ADDRESS (stored readable by root only).")

    @OptionGroup var target: TargetOptions
    @Option(help: "The registry's address (host, or a URL).") var address: String
    @Option(help: "The user name.") var username: String
    @Option(help: "The password.") var password: String

    func validate() throws {
        if RegistryAuth.host(of: address).isEmpty { throw ValidationError("--address \(address): give the registry's host, such as myregistry.azurecr.io") }
        if username.isEmpty || password.isEmpty { throw ValidationError("--username and --password must not be empty") }
    }

    func run() async throws {
        let config = try EdgeTarget(target).requireConfig()
        try RegistryLogins.save(RegistryAuth(username: username, password: password, serveraddress: address), homeDirectory: config.homeDirectory)
        print("Login Succeeded: credentials for \(RegistryAuth.host(of: address)) kept in \(RegistryLogins.path(homeDirectory: config.homeDirectory)) (mode 0600).")
    }
}
