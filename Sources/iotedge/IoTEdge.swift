import ArgumentParser
import EdgeDaemon

/// `iotedge`: the command line of the Outpost IoT Edge runtime on a device, with IoT Edge
/// 1.5's commands and flags. It talks to iotedged over its management socket; the commands
/// that help when the daemon is down (`system logs`, `check`, `config …`) read files instead.
@main
struct IoTEdge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iotedge",
        abstract: "Manage the Outpost IoT Edge runtime on this device: modules, logs, the daemon, its config, and troubleshooting.",
        discussion: """
        Every command finds the daemon through its config file: --config, else $OUTPOST_EDGE_CONFIG, \
        else \(EdgePaths.defaultConfigFile(root: true)) as root (~/.outpost/edge/config.toml otherwise). \
        -H/--host names the management socket directly.
        """,
        version: EdgeDaemonVersion.text,
        subcommands: [Check.self, CheckList.self, ListModules.self, Logs.self, Restart.self, SystemCommand.self,
                      ConfigCommand.self, SupportBundleCommand.self, Version.self, ExecCommand.self, LegacyCommand.self])
}

struct Version: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the version of iotedge and, when it runs, of iotedged.")

    @OptionGroup var target: TargetOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let edge = try EdgeTarget(target)
        let daemon = try? await edge.client().status()
        if json {
            printJSON(["iotedge": EdgeDaemonVersion.text, "iotedged": daemon?.version])
            return
        }
        print("iotedge \(EdgeDaemonVersion.text)")
        if let daemon { print("iotedged \(daemon.version) (pid \(daemon.pid))") }
    }
}
