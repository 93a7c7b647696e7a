import Foundation
@testable import HubServer
import Logging
import NIOCore
import NIOEmbedded
import Testing

@Suite("MQTT connection handler lifetime")
struct ConnectionHandlerLifetimeTests {
    @Test("a closed connection's handler is freed, with everything it holds")
    func handlerFreedAfterClose() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("handler-lifetime-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let hub = try Hub(config: HubConfiguration(host: "localhost", dataDirectory: directory), logger: Logger(label: "test"))
        weak var released: MQTTConnectionHandler?
        do {
            let channel = EmbeddedChannel()
            let handler = MQTTConnectionHandler(hub: hub, transport: .mqtt)
            released = handler
            try channel.pipeline.syncOperations.addHandler(handler)
            #expect(handler.context != nil)
            _ = try channel.finish()
        }
        #expect(released == nil)
        await hub.diagnostics.sinks.close()
        try hub.store.close()
    }
}
