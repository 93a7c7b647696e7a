import EdgeHub
import Foundation
import Logging

/// edgeHub, started by iotedged as a system module.
@main
enum EdgeHubMain {
    static let version = "1.5.0-outpost"

    static func main() async {
        let env = ProcessInfo.processInfo.environment
        let level: Logger.Level = switch env["RuntimeLogLevel"]?.lowercased() {
        case "fatal": .critical
        case "error": .error
        case "warning", "warn": .warning
        case "debug": .debug
        case "verbose", "trace": .trace
        default: .info
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "edgeHub")
        logger.info("Starting Edge Hub")
        logger.info("Version - \(version)")
        do {
            try await EdgeHubRunner.run(settings: EdgeHubSettings(environment: env), logger: logger)
        } catch {
            logger.critical("Edge Hub is stopping: \(error)")
            exit(1)
        }
    }
}
