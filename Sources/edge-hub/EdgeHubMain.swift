import EdgeHub
import EdgeModule
import Foundation
import HubServer
import Logging

/// edgeHub, started by iotedged as a system module.
@main
enum EdgeHubMain {
    static let version = "1.5.0-outpost"

    static func main() async {
        let env = ProcessInfo.processInfo.environment
        ModuleLogging.bootstrap(env["RuntimeLogLevel"])
        let logger = Logger(label: "edgeHub")
        logger.info("Starting Edge Hub")
        logger.info("Version - \(version)")
        do {
            try await EdgeHubRunner.run(settings: EdgeHubSettings(environment: env), logger: logger)
        } catch let error as ListenError {
            for line in PortConflict.explain(error) { logger.critical("\(line)") }
            logger.critical("Edge Hub is stopping: it cannot listen for modules and downstream devices")
            exit(1)
        } catch {
            logger.critical("Edge Hub is stopping: \(error)")
            exit(1)
        }
    }
}
