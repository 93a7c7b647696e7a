import ArgumentParser
import EdgeDaemon
import Foundation

/// `iotedge support-bundle`: everything a person helping with the device asks for, in one zip
/// (see `SupportBundle` for its layout), made here whether or not iotedged runs.
struct SupportBundleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "support-bundle",
        abstract: "Bundle troubleshooting information (logs, check results, config, modules, system facts) into one zip.",
        discussion: """
        The zip holds:
          logs/<module>.log       every module's logs in the window (-e: the runtime's)
          logs/iotedged.log       the daemon's logs in the window
          check.json              `iotedge check --output json` (or check.txt: why not)
          modules.json, list.txt  the modules, as `iotedge list` shows them
          config.toml             the daemon's config, keys and secrets <redacted>
          edgeAgent/deployment.json, edgeAgent/deployed.json
                                  the deployment edgeAgent last got; what it applied
          systeminfo.json         OS, kernel, memory, data disk, uptime, versions
          bundle-info.json        the window, when and where made, what is missing

        When iotedged is not running the logs are read from its files, and the module list is missing.
        Times are a duration before now (90s, 10m, 6h, 2d), RFC 3339 (2026-11-25T10:00:00Z) or unix seconds.
        The bundle can hold host, device and module names and whatever your modules log: look through it \
        before you share it in a public forum.
        """)

    @OptionGroup var target: TargetOptions
    @Option(name: [.short, .long], help: ArgumentHelp("Where to write the zip; - writes it to stdout.", valueName: "file"))
    var output: String = "support_bundle.zip"
    @Option(help: ArgumentHelp("Only logs since this time.", valueName: "time")) var since: String = "1d"
    @Option(help: ArgumentHelp("Only logs up to this time (default: now).", valueName: "time")) var until: String?
    @Flag(name: [.customShort("e"), .long], help: "Only edgeAgent, edgeHub and iotedged: leave your own modules out.")
    var includeEdgeRuntimeOnly = false
    @Option(name: .customLong("iothub-hostname"), help: ArgumentHelp("The hub `iotedge check` tests the connection to (default: the config's).", valueName: "host"))
    var iothubHostname: String?
    @Flag(name: [.short, .long], help: "Don't show progress; only errors and the final line.") var quiet = false

    func validate() throws {
        for (name, value) in [("--since", since), ("--until", until)] {
            if let value, ManagementAPI.time(value) == nil {
                throw ValidationError("\(name) \(value): use a duration before now (90s, 10m, 6h, 2d), RFC 3339 (2026-11-25T10:00:00Z) or unix seconds")
            }
        }
        if output.isEmpty { throw ValidationError("-o/--output is empty: name a file, or - for stdout") }
    }

    func run() async throws {
        let edge = try EdgeTarget(target)
        let destination = output == "-" ? nil : try Self.checkWritable(output)
        // Written beside the destination, then renamed: no half-written bundle under its name.
        // Made now, so that a place that cannot be written is known before collecting.
        let partial = destination.map { FileIO.join(FileIO.dirname(of: $0), ".\(FileIO.basename(of: $0)).\(getpid()).partial") }
        if let partial, let destination {
            let fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw CLIFailure("cannot write the support bundle to \(destination): \(String(cString: strerror(errno))). Choose another place with -o/--output FILE (or -o - for stdout).")
            }
            close(fd)
        }
        let client = try? edge.client()
        let source: SupportBundleSource
        var status: SystemStatus?
        // Probe first: the HTTP client retries a refused connection until its deadline, and a
        // bundle of a stopped daemon should not wait for that.
        let refusal = ManagementClient.connectRefusal(EdgeConfig.socketPath(edge.managementURI) ?? edge.managementURI)
        if let client, refusal == nil {
            do { status = try await client.status() } catch {}
        }
        let homeDirectory = edge.config?.homeDirectory ?? status?.homeDirectory
        if let client, status != nil {
            source = ManagementBundleSource(client: client)
        } else {
            let home = homeDirectory ?? EdgePaths.defaultHomeDirectory()
            source = LogFileBundleSource(logDirectory: FileIO.join(home, "logs"),
                                         daemonProblem: "nothing answers on its management socket \(edge.managementURI) (\(refusal ?? "no status"))")
            if !quiet { FileHandle.standardError.write(Data("iotedged is not running: reading its log files in \(FileIO.join(home, "logs"))\n".utf8)) }
        }
        var options = SupportBundle.Options(since: ManagementAPI.time(since)!, until: until.flatMap { ManagementAPI.time($0) },
                                            edgeRuntimeOnly: includeEdgeRuntimeOnly)
        options.iothubHostname = iothubHostname
        let configPath = edge.configPath.hasPrefix("/") ? edge.configPath : FileIO.join(FileManager.default.currentDirectoryPath, edge.configPath)
        let bundle = SupportBundle(options: options, configPath: configPath, config: edge.config,
                                   configError: edge.configError, homeDirectory: homeDirectory, source: source)
        let quiet = self.quiet
        let progress: @Sendable (String) -> Void = { line in
            if !quiet { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        }

        guard let destination, let partial else {
            let zip = try ZipBundleWriter()
            let info = await bundle.write(to: zip, progress: progress)
            guard let bytes = zip.finish() else { throw CLIFailure("the zip made in memory could not be read back") }
            FileHandle.standardOutput.write(Data(bytes))
            FileHandle.standardError.write(Data("Wrote the support bundle to stdout (\(Self.size(bytes.count)))\(Self.note(info))\n".utf8))
            return
        }
        let zip: ZipBundleWriter
        do { zip = try ZipBundleWriter(path: partial) } catch {
            unlink(partial)
            throw CLIFailure("cannot write the support bundle to \(destination): \(error). Choose another place with -o/--output FILE (or -o - for stdout).")
        }
        let info = await bundle.write(to: zip, progress: progress)
        zip.finish()
        guard rename(partial, destination) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(partial)
            throw CLIFailure("cannot write the support bundle to \(destination): \(why). Choose another place with -o/--output FILE.")
        }
        print("Created support bundle at \(destination) (\(Self.size(FileIO.size(destination) ?? 0)))\(Self.note(info))")
    }

    /// The absolute path to write, or a failure that says what is wrong with it, before any
    /// minute is spent collecting.
    static func checkWritable(_ output: String) throws -> String {
        let path = output.hasPrefix("/") ? output : FileIO.join(FileManager.default.currentDirectoryPath, output)
        if FileIO.isDirectory(path) {
            throw CLIFailure("cannot write the support bundle to \(output): it is a directory. Name a file, such as \(FileIO.join(output, "support_bundle.zip")).")
        }
        let directory = FileIO.dirname(of: path)
        guard FileIO.isDirectory(directory) else {
            throw CLIFailure("cannot write the support bundle to \(output): the directory \(directory) does not exist. Create it, or choose another place with -o/--output FILE.")
        }
        guard access(directory, W_OK) == 0 else {
            throw CLIFailure("cannot write the support bundle to \(output): \(directory) is not writable (\(String(cString: strerror(errno)))). Run with sudo, or choose another place with -o/--output FILE.")
        }
        return path
    }

    static func size(_ bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) bytes" }
        if bytes < 1 << 20 { return String(format: "%.1f KB", Double(bytes) / 1024) }
        return String(format: "%.1f MB", Double(bytes) / Double(1 << 20))
    }

    static func note(_ info: BundleInfo) -> String {
        info.problems.isEmpty ? "" : "; \(info.problems.count) part(s) could not be collected, see bundle-info.json"
    }
}
