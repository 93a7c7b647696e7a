import Foundation

/// Where a support bundle reads the modules and their logs: the daemon's own runtime (the
/// management API's bundle), the management API (`iotedge support-bundle` while iotedged
/// runs), or the log files alone (when it does not: the case a bundle is most needed for).
public protocol SupportBundleSource: Sendable {
    /// How the bundle was read, for bundle-info.json ("iotedged's runtime", …).
    var summary: String { get }
    /// The modules as `iotedge list` shows them; throws with the reason when they cannot be known.
    func modules() async throws -> [ModuleDetailsJSON]
    /// A module's log lines in the window, with their capture times, newline-terminated.
    func logs(of module: String, options: LogOptions) async throws -> [UInt8]
    /// The running daemon's status, when there is one to ask.
    func daemonStatus() async -> SystemStatus?
}

/// The daemon's runtime itself, for `GET /systeminfo/supportbundle`.
public struct RuntimeBundleSource: SupportBundleSource {
    public let runtime: ModuleRuntime
    public let system: SystemControl?

    public init(runtime: ModuleRuntime, system: SystemControl?) {
        self.runtime = runtime
        self.system = system
    }

    public var summary: String { "iotedged's module runtime (the management API's /systeminfo/supportbundle)" }

    public func modules() async throws -> [ModuleDetailsJSON] {
        await runtime.list().map(ModuleDetailsJSON.init)
    }

    public func logs(of module: String, options: LogOptions) async throws -> [UInt8] {
        try await SupportBundleLogs.join(runtime.logs(module, options: options))
    }

    public func daemonStatus() async -> SystemStatus? { await system?.status() }
}

/// The log files in the daemon's log directory, read without the daemon.
public struct LogFileBundleSource: SupportBundleSource {
    public let logDirectory: String
    /// Why the daemon could not be asked, said in modules.json.
    public let daemonProblem: String

    public init(logDirectory: String, daemonProblem: String) {
        self.logDirectory = logDirectory
        self.daemonProblem = daemonProblem
    }

    public var summary: String { "the log files in \(logDirectory) (iotedged did not answer)" }

    public func modules() async throws -> [ModuleDetailsJSON] {
        throw DaemonError("iotedged did not answer: \(daemonProblem)")
    }

    public func logs(of module: String, options: LogOptions) async throws -> [UInt8] {
        let path = FileIO.join(logDirectory, ProcessRuntime.fileName(module) + ".log")
        guard !RotatingLogFile.files(of: path).isEmpty else { throw DaemonError("no log file \(path)") }
        return await SupportBundleLogs.join(ModuleLogReader.lines(path: path, options: options))
    }

    public func daemonStatus() async -> SystemStatus? { nil }
}

enum SupportBundleLogs {
    static func join(_ lines: LogLines) async -> [UInt8] {
        var out: [UInt8] = []
        for await line in lines {
            out.append(contentsOf: line.utf8)
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }

    /// The module names that have log files in `directory` (`name.log` and its rotations),
    /// without the daemon's own.
    static func namesWithLogs(in directory: String) -> [String] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var names = Set<String>()
        for entry in entries {
            guard let range = entry.range(of: ".log", options: .backwards) else { continue }
            let rest = entry[range.upperBound...]
            guard rest.isEmpty || (rest.hasPrefix(".") && Int(rest.dropFirst()) != nil) else { continue }
            let name = String(entry[..<range.lowerBound])
            if !name.isEmpty, !name.hasPrefix("iotedged") { names.insert(name) }
        }
        return names.sorted()
    }
}
