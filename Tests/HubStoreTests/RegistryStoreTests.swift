import Foundation
import HubStore
import Testing

/// total, enabled, disabled, connected (the struct has no public initialiser to compare with).
private func counts(_ s: SQLiteHubStore.RegistryStatistics) -> [Int] { [s.total, s.enabled, s.disabled, s.connected] }

@Suite("Registry store")
struct RegistryStoreTests {
    @Test("a created device reads back equal; an unknown one is nil")
    func createAndGet() async throws {
        try await withTemporaryStore { store, _ in
            let record = IdentityRecord(deviceId: "dev1", generationId: "g", etag: "e", status: "disabled", statusReason: "why",
                                        statusUpdatedTime: fixedDate, authType: "selfSigned", primaryThumbprint: "AB",
                                        secondaryThumbprint: "CD", managedBy: "iotedge", iotEdge: true, createdTime: fixedDate)
            try await store.create(record)
            #expect(try await store.identity(deviceID: "dev1") == record)
            #expect(try await store.identity(deviceID: "nope") == nil)
            #expect(try await store.identity(deviceID: "dev1", moduleID: "m") == nil)
        }
    }

    @Test("a second device or module with the same id: alreadyExists")
    func duplicate() async throws {
        try await withTemporaryStore { store, _ in
            try await store.create(device("dev1"))
            await #expect(throws: StoreError.alreadyExists) { try await store.create(device("dev1", etag: "other")) }
            try await store.create(module("dev1", "m1"))
            await #expect(throws: StoreError.alreadyExists) { try await store.create(module("dev1", "m1")) }
        }
    }

    @Test("a module whose device does not exist: notFound")
    func moduleWithoutDevice() async throws {
        try await withTemporaryStore { store, _ in
            await #expect(throws: StoreError.notFound) { try await store.create(module("ghost", "m1")) }
            let modules = try await store.modules(deviceID: "ghost")
            #expect(modules.isEmpty)
        }
    }

    @Test("a device and a module may share an id; modules list under their device, sorted")
    func modulesOfADevice() async throws {
        try await withTemporaryStore { store, _ in
            try await store.create(device("dev1"))
            try await store.create(device("dev2"))
            for m in ["zeta", "alpha", "dev1"] { try await store.create(module("dev1", m)) }
            try await store.create(module("dev2", "alpha"))
            #expect(try await store.modules(deviceID: "dev1").map(\.moduleId) == ["alpha", "dev1", "zeta"])
            #expect(try await store.identity(deviceID: "dev1", moduleID: "alpha")?.isModule == true)
            #expect(try await store.identity(deviceID: "dev1")?.isModule == false)
        }
    }

    @Test("devices come sorted by id, optionally limited")
    func listDevices() async throws {
        try await withTemporaryStore { store, _ in
            for id in ["c", "a", "b"] { try await store.create(device(id)) }
            #expect(try await store.devices().map(\.deviceId) == ["a", "b", "c"])
            #expect(try await store.devices(limit: 2).map(\.deviceId) == ["a", "b"])
        }
    }

    @Test("update with the current ETag, '*' or none succeeds; a stale ETag is preconditionFailed with the current one")
    func updateWithETag() async throws {
        try await withTemporaryStore { store, _ in
            try await store.create(device("dev1", etag: "e1"))
            let updated = try await store.update(deviceID: "dev1", moduleID: nil, ifMatch: "e1") { r in
                var r = r; r.status = "disabled"; r.etag = "e2"; return r
            }
            #expect(updated.etag == "e2")
            #expect(try await store.identity(deviceID: "dev1")?.status == "disabled")
            await #expect(throws: StoreError.preconditionFailed(currentETag: "e2")) {
                try await store.update(deviceID: "dev1", moduleID: nil, ifMatch: "e1") { $0 }
            }
            try await store.update(deviceID: "dev1", moduleID: nil, ifMatch: "*") { r in var r = r; r.etag = "e3"; return r }
            try await store.update(deviceID: "dev1", moduleID: nil, ifMatch: nil) { r in var r = r; r.etag = "e4"; return r }
            #expect(try await store.identity(deviceID: "dev1")?.etag == "e4")
            await #expect(throws: StoreError.notFound) {
                try await store.update(deviceID: "ghost", moduleID: nil, ifMatch: nil) { $0 }
            }
        }
    }

    @Test("a failing change leaves the record as it was")
    func failingChange() async throws {
        struct Refused: Error {}
        try await withTemporaryStore { store, _ in
            try await store.create(device("dev1"))
            await #expect(throws: Refused.self) {
                try await store.update(deviceID: "dev1", moduleID: nil, ifMatch: nil) { _ in throw Refused() }
            }
            #expect(try await store.identity(deviceID: "dev1") == device("dev1"))
        }
    }

    @Test("update a module with ETag checks")
    func updateModule() async throws {
        try await withTemporaryStore { store, _ in
            try await store.create(device("dev1"))
            try await store.create(module("dev1", "m1", etag: "x1"))
            await #expect(throws: StoreError.preconditionFailed(currentETag: "x1")) {
                try await store.update(deviceID: "dev1", moduleID: "m1", ifMatch: "stale") { $0 }
            }
            try await store.update(deviceID: "dev1", moduleID: "m1", ifMatch: "x1") { r in var r = r; r.managedBy = "me"; r.etag = "x2"; return r }
            #expect(try await store.identity(deviceID: "dev1", moduleID: "m1")?.managedBy == "me")
            #expect(try await store.identity(deviceID: "dev1")?.managedBy == nil) // the device row is untouched
        }
    }

    @Test("delete checks the ETag; deleting a device removes its modules")
    func deleteCascades() async throws {
        try await withTemporaryStore { store, _ in
            try await store.create(device("dev1", etag: "e1"))
            try await store.create(device("dev2"))
            try await store.create(module("dev1", "m1"))
            try await store.create(module("dev1", "m2"))
            try await store.create(module("dev2", "m1"))
            await #expect(throws: StoreError.preconditionFailed(currentETag: "e1")) {
                try await store.delete(deviceID: "dev1", moduleID: nil, ifMatch: "stale")
            }
            try await store.delete(deviceID: "dev1", moduleID: nil, ifMatch: "e1")
            #expect(try await store.identity(deviceID: "dev1") == nil)
            #expect(try await store.modules(deviceID: "dev1") == [])
            #expect(try await store.identity(deviceID: "dev1", moduleID: "m1") == nil)
            // The other device keeps its module, and a new dev1 starts without modules.
            #expect(try await store.modules(deviceID: "dev2").map(\.moduleId) == ["m1"])
            try await store.create(device("dev1"))
            #expect(try await store.modules(deviceID: "dev1") == [])
            await #expect(throws: StoreError.notFound) { try await store.delete(deviceID: "ghost", moduleID: nil, ifMatch: nil) }
        }
    }

    @Test("delete one module")
    func deleteModule() async throws {
        try await withTemporaryStore { store, _ in
            try await store.create(device("dev1"))
            try await store.create(module("dev1", "m1", etag: "x"))
            try await store.create(module("dev1", "m2"))
            await #expect(throws: StoreError.preconditionFailed(currentETag: "x")) {
                try await store.delete(deviceID: "dev1", moduleID: "m1", ifMatch: "y")
            }
            try await store.delete(deviceID: "dev1", moduleID: "m1", ifMatch: "*")
            #expect(try await store.modules(deviceID: "dev1").map(\.moduleId) == ["m2"])
            #expect(try await store.identity(deviceID: "dev1") != nil)
            await #expect(throws: StoreError.notFound) { try await store.delete(deviceID: "dev1", moduleID: "m1", ifMatch: nil) }
        }
    }

    @Test("connection state changes keep the ETag; markAllDisconnected resets everyone")
    func connectionState() async throws {
        try await withTemporaryStore { store, _ in
            try await store.create(device("dev1", etag: "e1"))
            try await store.create(device("dev2"))
            try await store.create(module("dev1", "m1", etag: "x1"))
            let at = fixedDate.addingTimeInterval(60)
            try await store.setConnectionState(deviceID: "dev1", moduleID: nil, connected: true, at: at)
            try await store.setConnectionState(deviceID: "dev1", moduleID: "m1", connected: true, at: at)
            let dev1 = try #require(try await store.identity(deviceID: "dev1"))
            #expect(dev1.connectionState == "Connected")
            #expect(dev1.connectionStateUpdatedTime == at)
            #expect(dev1.lastActivityTime == at)
            #expect(dev1.etag == "e1")
            #expect(try await store.identity(deviceID: "dev1", moduleID: "m1")?.connectionState == "Connected")
            #expect(try await store.identity(deviceID: "dev2")?.connectionState == "Disconnected")
            let stats = try await store.registryStatistics()
            #expect(counts(stats) == [2, 2, 0, 1])

            try store.markAllDisconnected(at: at.addingTimeInterval(1))
            #expect(try await store.identity(deviceID: "dev1")?.connectionState == "Disconnected")
            #expect(try await store.identity(deviceID: "dev1", moduleID: "m1")?.connectionState == "Disconnected")
            #expect(try await store.registryStatistics().connected == 0)
        }
    }

    @Test("registry statistics count devices only")
    func statistics() async throws {
        try await withTemporaryStore { store, _ in
            let empty = try await store.registryStatistics()
            #expect(counts(empty) == [0, 0, 0, 0])
            try await store.create(device("a"))
            var disabled = device("b"); disabled.status = "disabled"
            try await store.create(disabled)
            try await store.create(module("a", "m"))
            let stats = try await store.registryStatistics()
            #expect(counts(stats) == [2, 1, 1, 0])
        }
    }
}
