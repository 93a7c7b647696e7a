import Logging

/// The log levels of IoT Edge's `RuntimeLogLevel` (fatal, error, warning, info, debug, verbose),
/// shared by the system and sample modules.
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
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
