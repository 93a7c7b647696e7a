import Foundation
import Twin

/// What `iotedge support-bundle` and edgeAgent's `UploadSupportBundle` (through the management
/// API's `/systeminfo/supportbundle`) collect, in one zip:
///
/// | entry | what |
/// | --- | --- |
/// | `logs/<module>.log` | each module's log lines in the window, with the time each was captured |
/// | `logs/iotedged.log` | the daemon's log in the window; `logs/iotedged.console.log`, what it printed at start-up |
/// | `check.json` | `iotedge check --output json`; `check.txt` says why when it could not run |
/// | `modules.json`, `list.txt` | the modules as the management API and `iotedge list` show them |
/// | `config.toml` | the daemon's config, secrets redacted |
/// | `edgeAgent/deployment.json`, `edgeAgent/deployed.json` | the deployment edgeAgent last received from its twin, and what it applied |
/// | `systeminfo.json` | OS, kernel, memory, disk of the data directory, uptime, versions |
/// | `bundle-info.json` | the window, when and where it was made, its files, and what could not be collected |
///
/// A part that cannot be collected is noted in bundle-info.json and the rest goes on: a
/// bundle is most needed when something is broken.
public struct SupportBundle: Sendable {
    public struct Options: Sendable, Equatable {
        /// Seconds since 1970.
        public var since: Double
        public var until: Double?
        /// Only edgeAgent, edgeHub and the daemon (`-e/--include-edge-runtime-only`).
        public var edgeRuntimeOnly: Bool
        /// Passed to `iotedge check`.
        public var iothubHostname: String?

        public init(since: Double = RFC3339.now() - 86_400, until: Double? = nil, edgeRuntimeOnly: Bool = false,
                    iothubHostname: String? = nil) {
            self.since = since
            self.until = until
            self.edgeRuntimeOnly = edgeRuntimeOnly
            self.iothubHostname = iothubHostname
        }
    }

    public var options: Options
    public var configPath: String
    /// The parsed config; nil when it cannot be read (`configError` says why).
    public var config: EdgeConfig?
    public var configError: String?
    /// The daemon's data directory: the config's, else the one the daemon reports.
    public var homeDirectory: String
    public var source: SupportBundleSource
    public var check: CheckRunner

    public init(options: Options, configPath: String, config: EdgeConfig?, configError: String? = nil,
                homeDirectory: String? = nil, source: SupportBundleSource, check: CheckRunner = CheckRunner()) {
        self.options = options
        self.configPath = configPath
        self.config = config
        self.configError = configError
        self.homeDirectory = homeDirectory ?? config?.homeDirectory ?? EdgePaths.defaultHomeDirectory()
        self.source = source
        self.check = check
    }

    var logDirectory: String { FileIO.join(homeDirectory, "logs") }
    var agentName: String { config?.agent.name ?? "edgeAgent" }
    var redaction: BundleRedaction { BundleRedaction(knownSecrets: [config?.provisioning.deviceKey ?? ""]) }

    /// Writes every part into `zip`, telling `progress` each step as it starts. Returns
    /// bundle-info.json's content (already written as the last entry).
    @discardableResult
    public func write(to zip: ZipBundleWriter, progress: @escaping @Sendable (String) -> Void = { _ in }) async -> BundleInfo {
        let window = "since \(RFC3339.format(options.since, fractionDigits: 0))" + (options.until.map { " until \(RFC3339.format($0, fractionDigits: 0))" } ?? "")
        progress("Making support bundle (logs \(window)\(options.edgeRuntimeOnly ? ", edge runtime only" : ""))")
        let parts = Parts(zip: zip, progress: progress)

        parts.progress("Listing modules")
        let daemon = await source.daemonStatus()
        var names: [String] = []
        do {
            let modules = try await source.modules().filter { include($0.name) }.sorted { $0.name < $1.name }
            names = modules.map(\.name)
            let json = redaction.redactJSON(try JSONValue(parsing: Data(JSONText.encode(ModuleListJSON(modules: modules)))))
            parts.add("modules.json", Self.pretty(json))
            parts.add("list.txt", Array(Self.listText(modules).utf8))
        } catch {
            parts.problem("modules.json, list.txt: \(error)")
            parts.add("list.txt", Array("The module list could not be read: \(error)\n".utf8))
        }
        // Modules that only left log files (removed, or the daemon is down) are included too.
        let listed = Set(names.map(ProcessRuntime.fileName))
        names += SupportBundleLogs.namesWithLogs(in: logDirectory).filter { !listed.contains($0) && include($0) }

        let logOptions = LogOptions(since: options.since, until: options.until, timestamps: true)
        for name in names {
            let entry = "logs/\(ProcessRuntime.fileName(name)).log"
            do {
                let bytes = try await source.logs(of: name, options: logOptions)
                parts.progress("Writing \(entry) (\(Self.lineCount(bytes)) lines)")
                parts.add(entry, bytes)
            } catch {
                parts.progress("No logs for \(name): \(error)")
                parts.problem("\(entry): \(error)")
            }
        }
        await addDaemonLogs(logOptions, parts)
        await addCheck(parts)
        addConfig(parts)
        addAgentState(parts)

        parts.progress("Writing systeminfo.json")
        let facts = HostFacts.collect(dataDirectory: homeDirectory, daemon: daemon)
        parts.add("systeminfo.json", (try? JSONText.encode(facts)).map { Self.pretty(bytes: $0) } ?? [])

        var info = BundleInfo(bundle: self)
        info.iotedgedVersion = daemon?.version
        info.files = zip.entries + ["bundle-info.json"]
        info.problems = parts.problems
        parts.progress("Writing bundle-info.json")
        parts.add("bundle-info.json", (try? JSONText.encode(info)).map { Self.pretty(bytes: $0) } ?? [])
        return info
    }

    /// With -e, only the runtime's own modules.
    func include(_ name: String) -> Bool {
        !options.edgeRuntimeOnly || [agentName, "edgeAgent", "edgeHub"].contains(name)
    }

    private func addDaemonLogs(_ logOptions: LogOptions, _ parts: Parts) async {
        let path = DaemonLog.path(logDirectory: logDirectory)
        if RotatingLogFile.files(of: path).isEmpty {
            parts.problem("logs/iotedged.log: no daemon log at \(path): iotedged has not run with this data directory")
        } else {
            let bytes = await SupportBundleLogs.join(DaemonLog.lines(logDirectory: logDirectory, options: logOptions))
            parts.progress("Writing logs/iotedged.log (\(Self.lineCount(bytes)) lines)")
            parts.add("logs/iotedged.log", bytes)
        }
        // What iotedged printed before its log was open (started by `iotedge system restart`):
        // undated, so its end is kept whatever the window.
        let console = FileIO.join(logDirectory, "iotedged.console.log")
        if let bytes = FileIO.read(console, limit: 64 << 20), !bytes.isEmpty {
            parts.progress("Writing logs/iotedged.console.log")
            parts.add("logs/iotedged.console.log", Array(bytes.suffix(1 << 20)))
        }
    }

    private func addCheck(_ parts: Parts) async {
        parts.progress("Running iotedge check --output json")
        switch await check.run(configPath: configPath, iothubHostname: options.iothubHostname ?? config?.provisioning.iothubHostname) {
        case .json(let bytes, let code):
            parts.progress("Writing check.json" + (code == 0 ? "" : " (iotedge check exited \(code): some checks did not pass)"))
            parts.add("check.json", bytes)
        case .unavailable(let why):
            parts.progress("iotedge check gave no JSON: writing check.txt with the reason")
            parts.problem("check.json: iotedge check gave no JSON; check.txt says why")
            parts.add("check.txt", Array("iotedge check --output json could not be included.\n\n\(why)\n".utf8))
        }
    }

    private func addConfig(_ parts: Parts) {
        parts.progress("Writing config.toml (secrets redacted)")
        if let error = configError { parts.problem("config.toml: \(error)") }
        guard let text = FileIO.readText(configPath) else {
            parts.problem("config.toml: cannot read \(configPath)")
            return
        }
        parts.add("config.toml", Array(redaction.redactTOML(text).utf8))
    }

    /// edgeAgent's storage folder: `StorageFolder` of `[agent.env]`, else `storage/edgeAgent`
    /// beside the workload socket, where edge-agent puts it.
    var agentStorage: String {
        if let folder = config?.agent.env.last(where: { $0.key == "StorageFolder" })?.value, !folder.isEmpty { return folder }
        let socket = config?.connect.workloadSocketPath ?? FileIO.join(homeDirectory, "workload.sock")
        return FileIO.join(FileIO.join(FileIO.dirname(of: socket), "storage"), "edgeAgent")
    }

    private func addAgentState(_ parts: Parts) {
        let storage = agentStorage
        for file in ["deployment.json", "deployed.json"] {
            let path = FileIO.join(storage, file)
            guard let bytes = FileIO.read(path) else {
                parts.problem("edgeAgent/\(file): not in \(storage) (edgeAgent has not received a deployment yet, or keeps its storage elsewhere)")
                continue
            }
            parts.progress("Writing edgeAgent/\(file) (edgeAgent's \(file == "deployment.json" ? "cached deployment" : "applied module configs"))")
            if let json = try? JSONValue(parsing: Data(bytes)) {
                parts.add("edgeAgent/\(file)", Self.pretty(redaction.redactJSON(json)))
            } else {
                parts.problem("edgeAgent/\(file): \(path) is not valid JSON; included as it is, redacted")
                parts.add("edgeAgent/\(file)", Array(redaction.redactInline(String(decoding: bytes, as: UTF8.self)).utf8))
            }
        }
    }

    static func pretty(_ json: JSONValue) -> [UInt8] { pretty(bytes: Array(json.jsonData)) }

    static func pretty(bytes: [UInt8]) -> [UInt8] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
        else { return bytes }
        return Array(data) + [UInt8(ascii: "\n")]
    }

    static func lineCount(_ bytes: [UInt8]) -> Int { bytes.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) } }

    /// `iotedge list`'s columns, aligned.
    static func listText(_ modules: [ModuleDetailsJSON]) -> String {
        let rows = [["NAME", "STATUS", "DESCRIPTION", "CONFIG"]] + modules.map { m in
            [m.name, m.status.listStatus ?? m.status.runtimeStatus.status,
             m.status.summary ?? m.status.runtimeStatus.description ?? "", m.config.image]
        }
        var widths = [0, 0, 0]
        for row in rows { for i in 0..<3 { widths[i] = max(widths[i], row[i].count) } }
        return rows.map { row in
            (0..<3).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "   ") + "   " + row[3]
        }.joined(separator: "\n") + "\n"
    }
}

/// The zip being written and what went wrong on the way, shared by the steps.
private final class Parts: @unchecked Sendable {
    let zip: ZipBundleWriter
    let progress: @Sendable (String) -> Void
    private(set) var problems: [String] = []

    init(zip: ZipBundleWriter, progress: @escaping @Sendable (String) -> Void) {
        self.zip = zip
        self.progress = progress
    }

    func add(_ path: String, _ bytes: [UInt8]) {
        do { try zip.add(path, bytes) } catch { problems.append("\(path): could not be added to the zip: \(error)") }
    }

    func problem(_ text: String) { problems.append(text) }
}

/// `bundle-info.json`.
public struct BundleInfo: Codable, Sendable {
    public struct Window: Codable, Sendable {
        public var since: String
        /// null: up to when the bundle was made.
        public var until: String?

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(since, forKey: .since)
            try c.encode(until, forKey: .until)  // written as null rather than left out
        }
    }

    public var createdAt: String
    public var window: Window
    /// The machine's host name, and the device's as config.toml gives it.
    public var host: String
    public var deviceHostname: String?
    public var deviceId: String?
    public var iothubHostname: String?
    public var edgeRuntimeOnly: Bool
    public var configFile: String
    /// Where the modules and logs were read.
    public var source: String
    public var iotedgeVersion: String
    public var iotedgedVersion: String?
    public var files: [String] = []
    /// What could not be collected, and why.
    public var problems: [String] = []

    init(bundle: SupportBundle) {
        createdAt = RFC3339.format(RFC3339.now(), fractionDigits: 0)
        window = Window(since: RFC3339.format(bundle.options.since, fractionDigits: 0),
                        until: bundle.options.until.map { RFC3339.format($0, fractionDigits: 0) })
        host = EdgePaths.systemHostname()
        deviceHostname = bundle.config?.hostname
        deviceId = bundle.config?.provisioning.deviceID
        iothubHostname = bundle.options.iothubHostname ?? bundle.config?.provisioning.iothubHostname
        edgeRuntimeOnly = bundle.options.edgeRuntimeOnly
        configFile = bundle.configPath
        source = bundle.source.summary
        iotedgeVersion = EdgeDaemonVersion.text
    }
}
