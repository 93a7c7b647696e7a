import Twin
import EdgeDaemon
import Foundation

/// `log-rotation`: edgelet asks Docker for a log size limit; Outpost's daemon rotates its own
/// and every module's log itself (`RotatingLogFile`). This checks that what is on disk obeys
/// those limits: no log far past the size, no stray older files.
public struct LogRotation: Checker {
    public let id = "log-rotation"
    public let description = "production readiness: logs policy"
    public let fix = "Remove the files named; if a log keeps growing, something other than iotedged writes it"

    public init() {}

    public func run(_ context: CheckContext) async -> CheckResult {
        guard let config = context.config else { return .skipped("config.toml cannot be read; see config-toml-well-formed.") }
        let limits = ProcessRuntime.Configuration(logDirectory: config.logDirectory)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: config.logDirectory)) ?? []).sorted()
        let sizes = names.map { ($0, FileIO.size(FileIO.join(config.logDirectory, $0)) ?? 0) }
        return Self.assess(files: sizes, directory: config.logDirectory, maxBytes: limits.logMaxBytes, maxFiles: limits.logMaxFiles, fix: fix)
    }

    /// `files`: the log directory's names and sizes.
    public static func assess(files: [(String, Int)], directory: String, maxBytes: Int, maxFiles: Int, fix: String) -> CheckResult {
        var problems: [String] = []
        for (name, size) in files {
            // A line may pass the limit before the file rotates: allow one more MiB.
            if name.hasSuffix(".log") || name.range(of: #"\.log\.\d+$"#, options: .regularExpression) != nil, size > maxBytes + (1 << 20) {
                problems.append("\(name) is \(SystemFacts.bytes(UInt64(size))), past the \(SystemFacts.bytes(UInt64(maxBytes))) limit")
            }
            if let r = name.range(of: #"\.log\.(\d+)$"#, options: .regularExpression),
               let n = Int(name[r].split(separator: ".").last ?? ""), n >= maxFiles {
                problems.append("\(name) is older than the \(maxFiles) files kept")
            }
        }
        let total = files.reduce(0) { $0 + $1.1 }
        let info: [String: JSONValueConvertible] = ["directory": directory, "max_bytes": maxBytes, "max_files": maxFiles, "total_bytes": total]
        let policy = "iotedged rotates each log in \(directory) at \(SystemFacts.bytes(UInt64(maxBytes))), keeping \(maxFiles) files"
        guard problems.isEmpty else {
            return .warning("\(policy), but: " + problems.joined(separator: "; ") + ".", fix: fix, info: info.json)
        }
        return .ok("\(policy); \(files.count) files, \(SystemFacts.bytes(UInt64(total))) in all", info: info.json)
    }
}
