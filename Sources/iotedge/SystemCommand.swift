import ArgumentParser
import EdgeDaemon
import Foundation

/// `iotedge system …`: the daemon itself, as IoT Edge 1.5's commands manage its system services.
struct SystemCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "system",
        abstract: "Manage the IoT Edge system: status, logs, log level, restart, stop, reprovision.",
        subcommands: [SystemStatusCommand.self, SystemLogs.self, SystemRestart.self, SystemStop.self,
                      SetLogLevel.self, Reprovision.self])
}

struct SystemStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show whether iotedged and its parts run, and why not.",
        discussion: "Exits 3 when iotedged is not running, as systemctl status does for an inactive unit.")

    @OptionGroup var target: TargetOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let edge = try EdgeTarget(target)
        let status: SystemStatus
        do { status = try await edge.client().status() } catch let failure as CLIFailure {
            if json {
                printJSON(["running": "false", "reason": failure.description, "config": edge.configPath])
            } else {
                print("System services:")
                print(Table.render(["    SERVICE", "STATUS", "DETAIL"], [["    iotedged", StatusColour.paint("Stopped"), "not running"]]))
                print("")
                print(failure.description)
                if let error = edge.configError { print("\nThe config cannot be used either:\n\(error)") }
            }
            throw ExitCode(3)
        }
        if json { printJSON(status); return }
        print("System services:")
        let rows = status.services.map { ["    " + $0.name, $0.status, $0.detail] }
        var text = Table.render(["    SERVICE", "STATUS", "DETAIL"], rows)
        if Table.isTerminal {
            var lines = text.split(separator: "\n").map(String.init)
            for (i, row) in rows.enumerated() { lines[i + 1] = lines[i + 1].replacingFirst(row[1], with: StatusColour.paint(row[1]), after: row[0].count) }
            text = lines.joined(separator: "\n")
        }
        print(text)
        print("""

        Config: \(status.configFile)   Log level: \(status.logLevel)

        Use 'iotedge system logs' to check for non-fatal errors.
        Use 'iotedge check' to diagnose connectivity and configuration issues.
        """)
    }
}

/// `iotedge system logs [-- -f]`: the daemon's log file, readable whether or not it runs.
struct SystemLogs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Show the logs of iotedged (provisioning, module starts and exits, API errors).",
        discussion: """
        After `--`, journalctl's options are understood as IoT Edge's command passes them on: \
        -f/--follow, -n/--lines N, --since TIME, --until TIME (iotedge system logs -- -f).
        """)

    @OptionGroup var target: TargetOptions
    @Option(help: "Only lines since this time (a duration such as 1h, RFC 3339, or unix seconds).") var since: String?
    @Option(help: "Only lines up to this time.") var until: String?
    @Option(name: [.customShort("n"), .long], help: "Only the last N lines.") var lines: Int?
    @Flag(name: [.customShort("f"), .long], help: "Keep printing lines as they are written.") var follow = false
    @Argument(parsing: .postTerminator, help: "journalctl-style options after --.") var passthrough: [String] = []

    func run() async throws {
        var options = LogOptions()
        options.follow = follow
        options.tail = lines
        var sinceText = since, untilText = until
        var rest = passthrough[...]
        while let word = rest.popFirst() {
            switch word {
            case "-f", "--follow": options.follow = true
            case "-n", "--lines":
                guard let n = rest.popFirst().flatMap(Int.init), n >= 0 else { throw ValidationError("\(word) needs a number of lines") }
                options.tail = n
            case "--since", "-S": sinceText = rest.popFirst()
            case "--until", "-U": untilText = rest.popFirst()
            case "--no-pager", "-a", "--all", "-e", "--pager-end", "-x": continue
            default: throw ValidationError("\(word) after --: use -f, -n N, --since TIME or --until TIME")
            }
        }
        for (name, text) in [("--since", sinceText), ("--until", untilText)] {
            guard let text else { continue }
            guard let t = ManagementAPI.time(text) else { throw ValidationError("\(name) \(text): use a duration (10m, 1h), RFC 3339 or unix seconds") }
            if name == "--since" { options.since = t } else { options.until = t }
        }
        let edge = try EdgeTarget(target)
        let config = try edge.requireConfig()
        let path = DaemonLog.path(logDirectory: config.logDirectory)
        guard FileIO.exists(path) || options.follow else {
            throw CLIFailure("No log at \(path): iotedged has not run with this config (\(config.file)). Start it with \(edge.startHint).")
        }
        for await line in DaemonLog.lines(logDirectory: config.logDirectory, options: options) {
            print(line)
            if options.follow { fflush(stdout) }
        }
    }
}

struct SystemRestart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart",
        abstract: "Restart iotedged and every module (it reads its config again); starts it when it is not running.")

    @OptionGroup var target: TargetOptions

    func run() async throws {
        let edge = try EdgeTarget(target)
        let lifecycle = DaemonLifecycle(edge: edge)
        if let before = try? await edge.client().status() {
            _ = try await edge.client().call(.POST, "/system/restart")
            print("Restarting iotedged (pid \(before.pid)): every module stops, then starts again…")
            let after = try await lifecycle.waitForRestart(after: before.startTime)
            print("iotedged is running again (pid \(after.pid), version \(after.version)).")
        } else {
            try await lifecycle.startAndWait()
        }
    }
}

struct SystemStop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop every module and iotedged. `iotedge config apply` or `iotedge system restart` starts it again.")

    @OptionGroup var target: TargetOptions

    func run() async throws {
        let edge = try EdgeTarget(target)
        guard let before = try? await edge.client().status() else {
            print("iotedged is not running.")
            return
        }
        _ = try await edge.client().call(.POST, "/system/stop")
        print("Stopping iotedged (pid \(before.pid)) and every module…")
        try await DaemonLifecycle(edge: edge).waitForStop()
        print("iotedged stopped. Start it again with: sudo iotedge config apply (or sudo iotedge system restart)")
    }
}

struct SetLogLevel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-log-level",
        abstract: "Set iotedged's log level (fatal, error, warning, info, debug, verbose); kept across restarts.")

    @OptionGroup var target: TargetOptions
    @Argument(help: "fatal, error, warning, info, debug or verbose.") var level: String

    func validate() throws {
        guard EdgeLogLevel.parse(level) != nil else {
            throw ValidationError("unknown log level \"\(level)\": use fatal, error, warning, info, debug or verbose")
        }
    }

    func run() async throws {
        let edge = try EdgeTarget(target)
        let parsed = EdgeLogLevel.parse(level)!
        if (try? await edge.client().status()) != nil {
            _ = try await edge.client().call(.PUT, "/system/loglevel", body: ["level": .string(EdgeLogLevel.name(parsed))])
            print("iotedged now logs at \(EdgeLogLevel.name(parsed)), and will after restarts.")
        } else {
            let config = try edge.requireConfig()
            try LogLevelSetting.persist(parsed, homeDirectory: config.homeDirectory)
            print("iotedged is not running; it will log at \(EdgeLogLevel.name(parsed)) when it starts (\(edge.startHint)).")
        }
    }
}

struct Reprovision: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Provision the device again from its config: module identities are fetched anew from the hub, then everything restarts.")

    @OptionGroup var target: TargetOptions

    func run() async throws {
        let edge = try EdgeTarget(target)
        let before = try await edge.client().status()
        _ = try await edge.client().call(.POST, "/system/reprovision")
        print("Reprovisioning device from \(before.configFile)…")
        let after = try await DaemonLifecycle(edge: edge).waitForRestart(after: before.startTime)
        let identity = after.services.first { $0.name == "identity" }
        print("Successfully reprovisioned: identity \(identity?.status ?? "?") (\(identity?.detail ?? "")).")
    }
}

/// Waiting for the daemon to come up, go away, or come back.
struct DaemonLifecycle {
    let edge: EdgeTarget
    var timeout: Double = 60

    func waitForRestart(after startTime: Double) async throws -> SystemStatus {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let s = try? await edge.client().status(), s.startTime > startTime { return s }
            try await Task.sleep(nanoseconds: 250_000_000)
        }
        throw CLIFailure("iotedged did not come back within \(Int(timeout)) s. Look at: sudo iotedge system logs")
    }

    func waitForStop() async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try? await edge.client().status()) == nil { return }
            try await Task.sleep(nanoseconds: 250_000_000)
        }
        throw CLIFailure("iotedged still answers after \(Int(timeout)) s. Look at: sudo iotedge system logs")
    }

    /// Starts iotedged with the target's config and waits until its management API answers.
    func startAndWait() async throws {
        let config = try edge.requireConfig()
        guard let executable = DaemonProcess.executable() else {
            throw CLIFailure("cannot find iotedged beside iotedge or on PATH: install Outpost's binaries together")
        }
        let console = FileIO.join(config.logDirectory, "iotedged.console.log")
        let pid = try DaemonProcess.start(executable: executable, configPath: config.file, consoleLog: console)
        print("Starting iotedged (pid \(pid)) with \(config.file)…")
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let s = try? await edge.client().status() {
                print("iotedged is running (pid \(s.pid), version \(s.version)).")
                return
            }
            var exitStatus: Int32 = 0
            if waitpid(pid, &exitStatus, WNOHANG) == pid {
                let said = FileIO.readText(console).map { $0.split(separator: "\n").suffix(5).joined(separator: "\n") } ?? ""
                throw CLIFailure("iotedged exited at start-up:\n\(said)\nMore in: sudo iotedge system logs")
            }
            try await Task.sleep(nanoseconds: 250_000_000)
        }
        throw CLIFailure("iotedged (pid \(pid)) did not answer on \(edge.managementURI) within \(Int(timeout)) s. Look at: sudo iotedge system logs")
    }
}
