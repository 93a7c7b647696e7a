import ArgumentParser
import EdgeDaemon
import EdgeModule
import Foundation
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `iotedged [--config PATH] [--check-config] [--log-level LEVEL]`: the edge daemon. Parses
/// and wires; the behaviour is in the EdgeDaemon library. (`MultiCall` picks it, or edgeAgent
/// or edgeHub, by the name the process was started under.)
struct IoTEdged: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iotedged",
        abstract: "The Outpost IoT Edge security daemon: provisions the device, runs edgeAgent and the modules it deploys, serves the management and workload APIs.",
        discussion: """
        Reads config.toml (default \(EdgePaths.defaultConfigFile(root: true)) as root, \
        ~/.outpost/edge/config.toml otherwise) and runs until SIGTERM or SIGINT, when it stops \
        every module (SIGTERM, then SIGKILL after 10 s). Logs go to stderr and to \
        <homedir>/logs/iotedged.log.
        """,
        version: EdgeDaemonVersion.text)

    @Option(name: .long, help: "The config file (IoT Edge 1.5's config.toml shape).")
    var config: String?

    @Flag(name: .customLong("check-config"), help: "Validate the config file, print what it says, and exit (0 when valid).")
    var checkConfig = false

    @Option(name: .customLong("log-level"), help: "fatal, error, warning, info, debug or verbose (default: IOTEDGE_LOG, else info).")
    var logLevel: String?

    mutating func run() async throws {
        // A closed stderr (journald restarted, a pipe gone) must not kill the daemon; modules get
        // every signal back at its default when they are spawned.
        signal(SIGPIPE, SIG_IGN)
        let path = config ?? EdgePaths.defaultConfigFile()
        let edgeConfig: EdgeConfig
        do {
            edgeConfig = try EdgeConfig.load(path: path)
        } catch {
            fputs(error.description + "\n", stderr)
            throw ExitCode(1)
        }
        if checkConfig {
            print(Self.summary(edgeConfig))
            return
        }

        // --log-level, else what `iotedge system set-log-level` kept, else IOTEDGE_LOG, else info.
        let kept = LogLevelSetting.persisted(homeDirectory: edgeConfig.homeDirectory)
        var level = kept ?? .info
        if let text = logLevel ?? (kept == nil ? getenv("IOTEDGE_LOG").map({ String(cString: $0) }) : nil) {
            guard let parsed = EdgeLogLevel.parse(text) else {
                fputs("iotedged: unknown log level \"\(text)\": use fatal, error, warning, info, debug or verbose\n", stderr)
                throw ExitCode(2)
            }
            level = parsed
        }
        let logFile = RotatingLogFile(path: edgeConfig.logDirectory + "/iotedged.log")
        let levelSetting = LogLevelSetting(level)
        LoggingSystem.bootstrap { label in DaemonLogHandler(label: label, level: levelSetting, file: logFile) }
        let logger = Logger(label: "iotedged")
        if let warning = StartupPages.schedule(environment: ProcessInfo.processInfo.environment) { logger.warning("\(warning)") }

        let provider: HubIdentityClient
        do {
            provider = try HubIdentityClient(device: DeviceCredentials(edgeConfig.provisioning), trustBundlePEM: edgeConfig.trustBundlePEM)
        } catch {
            logger.critical("Cannot use trust_bundle_cert \(edgeConfig.trustBundlePath ?? ""): \(error)")
            throw ExitCode(1)
        }
        var options = EdgeDaemon.Options()
        options.ownPrograms = Set(MultiCall.programs.keys)
        let daemon = EdgeDaemon(config: edgeConfig, identityProvider: provider, options: options, logLevel: levelSetting, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: daemon, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: Logger(label: "iotedged.lifecycle")))
        do {
            try await group.run()
        } catch {
            logger.critical("\(error)")
            await provider.shutdown()
            logFile.close()
            throw ExitCode(1)
        }
        await provider.shutdown()
        if daemon.restartRequested {
            logger.notice("Starting again (system restart)")
            logFile.close()
            Self.execAgain()
        }
        logFile.close()
    }

    /// Replaces this process with a fresh iotedged with the same arguments, so a supervisor
    /// (systemd, a shell, a test) keeps the same pid while the config is read anew.
    static func execAgain() -> Never {
        let args = CommandLine.arguments
        var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
        argv.append(nil)
        execv("/proc/self/exe", &argv)
        fputs("iotedged: could not start again (\(String(cString: strerror(errno)))): start it with \(args.joined(separator: " "))\n", stderr)
        Glibc.exit(1)
    }

    static func summary(_ c: EdgeConfig) -> String {
        var lines = [
            "\(c.file): the configuration is valid.",
            "  hostname:      \(c.hostname)",
            "  provisioning:  manual, device \(c.provisioning.deviceID) on hub \(c.provisioning.iothubHostname) (key from \(c.provisioning.keySource))",
            "  trust bundle:  \(c.trustBundlePath ?? "none (the system's CAs verify the hub)")",
            "  agent:         \(c.agent.name), type \(c.agent.type), image \(c.agent.image)\(c.agent.env.isEmpty ? "" : ", env " + c.agent.env.map { "\($0.key)=\($0.value)" }.joined(separator: " "))",
            "  homedir:       \(c.homeDirectory)",
            "  management:    listen \(c.listen.managementURI), connect \(c.connect.managementURI)",
            "  workload:      listen \(c.listen.workloadURI), connect \(c.connect.workloadURI)",
        ]
        for note in c.notes { lines.append("  note: \(note)") }
        return lines.joined(separator: "\n")
    }
}
