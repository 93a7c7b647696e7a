#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// The runtime log levels of the seeds (fatal, error, warning, info, debug, verbose), as
/// `RuntimeLogLevel`, `IOTEDGE_LOG` and `--log-level` spell them, mapped onto swift-log's.
public enum EdgeLogLevel {
    public static func parse(_ text: String) -> Logger.Level? {
        // `IOTEDGE_LOG=edgelet=debug` (edgelet's RUST_LOG style): the level is after the last '='.
        let word = text.split(separator: "=").last.map { String($0) }?.trimmingSpaces().lowercased() ?? ""
        switch word {
        case "fatal", "critical", "crit": return .critical
        case "error", "err": return .error
        case "warning", "warn": return .warning
        case "notice": return .notice
        case "info", "information": return .info
        case "debug": return .debug
        case "verbose", "trace": return .trace
        default: return nil
        }
    }

    /// The tag edgelet writes in its log lines.
    static func tag(_ level: Logger.Level) -> String {
        switch level {
        case .critical: "FATAL"
        case .error: "ERR!"
        case .warning: "WARN"
        case .notice, .info: "INFO"
        case .debug: "DBUG"
        case .trace: "TRCE"
        }
    }
}

/// The daemon's log lines, in edgelet's shape (`2026-11-25T10:11:12Z [INFO] - Starting …`),
/// to stderr (what journald keeps) and to `<homedir>/logs/iotedged.log` (rotated), so that
/// `iotedge system logs` and the support bundle find them without journald.
public struct DaemonLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let file: RotatingLogFile?
    private let toStderr: Bool

    public init(label: String, level: Logger.Level, file: RotatingLogFile?, toStderr: Bool = true) {
        self.label = label
        self.logLevel = level
        self.file = file
        self.toStderr = toStderr
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level = event.level, message = event.message, extra = event.metadata
        let now = RFC3339.now()
        var text = "\(EdgeLogLevel.tag(level))] - \(message)"
        let all = extra.map { metadata.merging($0) { $1 } } ?? metadata
        if !all.isEmpty {
            text += " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        let line = RFC3339.format(now, fractionDigits: 0) + " [" + text
        if toStderr { fputs(line + "\n", stderr) }
        file?.write(Array((line + "\n").utf8))
    }
}
