import Foundation
import HubStore
import Testing

@Suite("Sessions and reopening the store")
struct SessionStoreTests {
    @Test("no session, then an empty one, then subscriptions added, replaced and removed")
    func sessionLifecycle() async throws {
        try await withTemporaryStore { store, _ in
            #expect(try await store.session(clientID: "dev1") == nil)
            try await store.createSession(clientID: "dev1")
            #expect(try await store.session(clientID: "dev1") == [:])
            try await store.createSession(clientID: "dev1") // idempotent
            try await store.addSubscriptions(clientID: "dev1", [("devices/dev1/messages/devicebound/#", 1), ("$iothub/methods/POST/#", 0)])
            try await store.addSubscriptions(clientID: "dev1", [("$iothub/methods/POST/#", 1)])
            #expect(try await store.session(clientID: "dev1") == ["devices/dev1/messages/devicebound/#": 1, "$iothub/methods/POST/#": 1])
            try await store.removeSubscriptions(clientID: "dev1", ["$iothub/methods/POST/#", "never/subscribed"])
            #expect(try await store.session(clientID: "dev1") == ["devices/dev1/messages/devicebound/#": 1])
        }
    }

    @Test("adding subscriptions creates the session; sessions are per client id")
    func implicitSession() async throws {
        try await withTemporaryStore { store, _ in
            try await store.addSubscriptions(clientID: "dev1/mod1", [("devices/dev1/modules/mod1/inputs/#", 1)])
            #expect(try await store.session(clientID: "dev1/mod1") == ["devices/dev1/modules/mod1/inputs/#": 1])
            #expect(try await store.session(clientID: "dev1") == nil)
        }
    }

    @Test("deleting a session deletes its subscriptions: a new session starts empty")
    func deleteSession() async throws {
        try await withTemporaryStore { store, _ in
            try await store.addSubscriptions(clientID: "dev1", [("$iothub/twin/res/#", 0)])
            try await store.addSubscriptions(clientID: "dev2", [("$iothub/twin/res/#", 0)])
            try await store.deleteSession(clientID: "dev1")
            #expect(try await store.session(clientID: "dev1") == nil)
            try await store.createSession(clientID: "dev1")
            #expect(try await store.session(clientID: "dev1") == [:])
            #expect(try await store.session(clientID: "dev2") == ["$iothub/twin/res/#": 0])
        }
    }

    @Test("closed and reopened from the same path: registry, sessions, telemetry and positions are all there")
    func reopen() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        do {
            let store = try SQLiteHubStore(path: directory.databasePath)
            try await store.create(device("dev1"))
            try await store.create(module("dev1", "m1"))
            try await store.addSubscriptions(clientID: "dev1", [("devices/dev1/messages/devicebound/#", 1)])
            try await store.setConsumerGroupPosition("$Default", 2)
            let writer = TelemetryWriter(store: store)
            writer.start()
            for i in 0..<3 { _ = try await writer.submit(telemetry("dev1", "\(i)")) }
            writer.stop()
            try store.close()
        }
        let store = try SQLiteHubStore(path: directory.databasePath)
        defer { try? store.close() }
        #expect(try await store.identity(deviceID: "dev1") == device("dev1"))
        #expect(try await store.modules(deviceID: "dev1").map(\.moduleId) == ["m1"])
        #expect(try await store.session(clientID: "dev1") == ["devices/dev1/messages/devicebound/#": 1])
        #expect(try await store.consumerGroupPosition("$Default") == 2)
        #expect(try await store.lastSequenceNumber() == 3)
        // Migrations ran once; a second open applies nothing new and the sequence continues.
        let writer = TelemetryWriter(store: store)
        writer.start()
        defer { writer.stop() }
        _ = try await writer.submit(telemetry("dev1"))
        #expect(try await store.messages(after: 3, limit: 10).map(\.sequenceNumber) == [4])
    }
}
