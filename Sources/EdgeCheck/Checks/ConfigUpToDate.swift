import Twin
import EdgeDaemon
import Foundation

/// `config-up-to-date`: iotedged runs the config file as it is now. A file changed after the
/// daemon last applied it means edits that are not in effect yet.
public struct ConfigUpToDate: Checker {
    public let id = "config-up-to-date"
    public let description = "configuration up-to-date with config.toml"
    public let fix = "sudo iotedge config apply"

    public init() {}

    public func run(_ context: CheckContext) async -> CheckResult {
        guard context.config != nil else { return .skipped("config.toml cannot be read; see config-toml-well-formed.") }
        let status: SystemStatus
        switch await context.daemonStatus() {
        case .success(let s): status = s
        case .failure(let e): return context.daemonSkip(e)
        }
        let path = context.options.configPath
        if Self.realPath(status.configFile) != Self.realPath(path) {
            return .warning("iotedged runs \(status.configFile), not \(path): this check and the daemon read different files.",
                            fix: "Check with --config \(status.configFile), or apply this file: sudo iotedge config apply -c \(path)")
        }
        guard let modified = Self.modificationTime(path) else {
            return .failed("cannot stat \(path)", fix: "Make the file readable by the user running iotedge check.")
        }
        let applied = status.configAppliedTime ?? status.startTime
        let info: [String: JSONValueConvertible] = ["modified": modified, "applied": applied]
        if let problem = Self.assess(modified: modified, applied: applied) {
            return .warning(problem, fix: fix, info: info.json)
        }
        return .ok("applied at \(RFC3339.format(applied, fractionDigits: 0)); the file has not changed since", info: info.json)
    }

    /// A file written more than a second after the daemon applied it (mtime granularity) is
    /// newer than what runs.
    public static func assess(modified: Double, applied: Double) -> String? {
        guard modified > applied + 1 else { return nil }
        return "config.toml was changed at \(RFC3339.format(modified, fractionDigits: 0)), after iotedged applied its configuration at \(RFC3339.format(applied, fractionDigits: 0)): the changes are not in effect."
    }

    static func modificationTime(_ path: String) -> Double? {
        var s = stat()
        guard stat(path, &s) == 0 else { return nil }
        return Double(s.st_mtim.tv_sec) + Double(s.st_mtim.tv_nsec) / 1e9
    }

    static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
