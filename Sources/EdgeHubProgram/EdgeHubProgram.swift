import EdgeHub
import EdgeModule
import Foundation
import HubServer
import Logging
import NIOCore

/// edgeHub, started by iotedged as a system module. The `edge-hub` executable runs it, and so
/// does `iotedged` when started as `edge-hub` (argv[0]): the daemon starts edgeHub from its
/// own executable so the processes share its text pages.
public enum EdgeHubProgram {
    static let version = "1.5.0-outpost"

    public static func main() async {
        await ModuleMain.run(label: "edgeHub", startLines: ["Starting Edge Hub", "Version - \(version)"],
                             stopping: "Edge Hub is stopping") { env, logger in
            let settings = try EdgeHubSettings(environment: env)
            if !settings.optimizeForPerformance {
                // Before anything touches NIO's shared threads: one event loop and one blocking thread.
                NIOSingletons.groupLoopCountSuggestion = 1
                NIOSingletons.blockingPoolThreadCountSuggestion = 1
                logger.info("OptimizeForPerformance is false: low-memory mode (1 I/O thread, 1 store reader, 256 KiB store cache per connection)")
            }
            do {
                try await EdgeHubRunner.run(settings: settings, logger: logger)
            } catch let error as ListenError {
                for line in PortConflict.explain(error) { logger.critical("\(line)") }
                logger.critical("Edge Hub is stopping: it cannot listen for modules and downstream devices")
                exit(1)
            }
        }
    }
}
