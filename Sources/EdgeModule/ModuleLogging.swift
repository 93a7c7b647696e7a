import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The log levels of IoT Edge's `RuntimeLogLevel` (fatal, error, warning, info, debug, verbose),
/// shared by the system and sample modules, and IoT Edge's module log format.
public enum ModuleLogging {
    public static func level(_ runtimeLogLevel: String?) -> Logger.Level {
        switch runtimeLogLevel?.lowercased() {
        case "fatal": .critical
        case "error": .error
        case "warning", "warn": .warning
        case "debug": .debug
        case "verbose", "trace": .trace
        default: .info
        }
    }

    /// Logs to standard error (which iotedged captures, timestamps and rotates).
    public static func bootstrap(_ runtimeLogLevel: String?) {
        let level = level(runtimeLogLevel)
        LoggingSystem.bootstrap { label in ModuleLogHandler(label: label, level: level) }
    }

    /// The syslog severity IoT Edge writes first on each line (`<6>` for information), which
    /// `GetModuleLogs`' `loglevel` filter matches.
    public static func severity(_ level: Logger.Level) -> Int {
        switch level {
        case .critical: 2
        case .error: 3
        case .warning: 4
        case .notice: 5
        case .info: 6
        case .debug, .trace: 7
        }
    }

    /// The severity of a line written in IoT Edge's format, or nil.
    public static func severity(ofLine line: Substring) -> Int? {
        guard line.first == "<", let close = line.firstIndex(of: ">") else { return nil }
        return Int(line[line.index(after: line.startIndex)..<close])
    }
}

/// `<6> 2026-11-25 10:25:08.123 +00:00 [INF] - Starting module management agent.`: IoT Edge's
/// recommended module log format, so that the agent's log methods can filter by level.
public struct ModuleLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var text = "<\(ModuleLogging.severity(event.level))> \(Self.timestamp()) [\(Self.tag(event.level))] - \(event.message)"
        let all = event.metadata.map { metadata.merging($0) { $1 } } ?? metadata
        if !all.isEmpty { text += " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
        text += "\n"
        fputs(text, stderr)
    }

    static func tag(_ level: Logger.Level) -> String {
        switch level {
        case .critical: "CRT"
        case .error: "ERR"
        case .warning: "WRN"
        case .notice: "NTC"
        case .info: "INF"
        case .debug: "DBG"
        case .trace: "VRB"
        }
    }

    /// `yyyy-MM-dd HH:mm:ss.fff +00:00` in UTC.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var t = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &t)
        func pad(_ n: Int32, _ width: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(t.tm_year + 1900, 4))-\(pad(t.tm_mon + 1, 2))-\(pad(t.tm_mday, 2)) "
            + "\(pad(t.tm_hour, 2)):\(pad(t.tm_min, 2)):\(pad(t.tm_sec, 2)).\(pad(Int32(now.tv_nsec / 1_000_000), 3)) +00:00"
    }
}
