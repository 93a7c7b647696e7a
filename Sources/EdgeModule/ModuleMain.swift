import Foundation
import Logging

/// How every Outpost module starts and fails: logs at `RuntimeLogLevel` in IoT Edge's format,
/// writes its start lines, runs `body`, and if that throws, writes `"<stopping>: <error>"` as a
/// critical line and exits with 1 (so that edgeAgent's restart policy sees the failure).
public enum ModuleMain {
    public static func run(label: String, startLines: [String], stopping: String,
                           _ body: ([String: String], Logger) async throws -> Void) async {
        let env = ProcessInfo.processInfo.environment
        ModuleLogging.bootstrap(env["RuntimeLogLevel"])
        let logger = Logger(label: label)
        for line in startLines { logger.info("\(line)") }
        if let warning = StartupPages.schedule(environment: env) { logger.warning("\(warning)") }
        do {
            try await body(env, logger)
        } catch {
            logger.critical("\(stopping): \(error)")
            exit(1)
        }
    }
}
