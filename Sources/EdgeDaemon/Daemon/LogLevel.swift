#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOConcurrencyHelpers

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

    /// The word `set-log-level` and the status show.
    public static func name(_ level: Logger.Level) -> String {
        switch level {
        case .critical: "fatal"
        case .error: "error"
        case .warning: "warning"
        case .notice, .info: "info"
        case .debug: "debug"
        case .trace: "verbose"
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

/// The daemon's current log level, shared by every logger so that `iotedge system
/// set-log-level` changes it at once; kept in `<homedir>/log_level` for the next start.
public final class LogLevelSetting: @unchecked Sendable {
    private let lock = NIOLock()
    private var value: Logger.Level

    public init(_ level: Logger.Level) { value = level }

    public var level: Logger.Level {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }

    public static func persistedPath(homeDirectory: String) -> String { FileIO.join(homeDirectory, "log_level") }

    /// The level `set-log-level` kept, if any.
    public static func persisted(homeDirectory: String) -> Logger.Level? {
        FileIO.readText(persistedPath(homeDirectory: homeDirectory)).flatMap { EdgeLogLevel.parse($0) }
    }

    public static func persist(_ level: Logger.Level, homeDirectory: String) throws {
        try FileIO.write(EdgeLogLevel.name(level) + "\n", to: persistedPath(homeDirectory: homeDirectory), mode: 0o644)
    }
}

/// The daemon's log lines, in edgelet's shape (`2026-11-25T10:11:12Z [INFO] - Starting …`),
/// to stderr (what journald keeps) and to `<homedir>/logs/iotedged.log` (rotated), so that
/// `iotedge system logs` and the support bundle find them without journald.
public struct DaemonLogHandler: LogHandler {
    private let setting: LogLevelSetting
    /// Follows the shared setting; setting it on one logger changes every logger's.
    public var logLevel: Logger.Level {
        get { setting.level }
        set { setting.level = newValue }
    }
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let file: RotatingLogFile?
    private let toStderr: Bool

    public init(label: String, level: LogLevelSetting, file: RotatingLogFile?, toStderr: Bool = true) {
        self.label = label
        self.setting = level
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
