import Foundation
import HubStore
import Testing
import Twin

@Suite("Twin store")
struct TwinStoreTests {
    @Test("an identity without a stored twin reads as a fresh twin; an unknown one is nil")
    func freshTwin() async throws {
        try await withTemporaryStore { store, _ in
            try await store.create(device("dev1"))
            let row = try #require(try await store.twin(deviceID: "dev1", moduleID: nil))
            #expect(row.twin == TwinState())
            #expect(row.identity.deviceId == "dev1")
            #expect(try await store.twin(deviceID: "ghost", moduleID: nil) == nil)
        }
    }

    @Test("updates persist; a stale ETag is refused with the current one and changes nothing")
    func conditionalUpdate() async throws {
        try await withTemporaryStore { store, _ in
            try await store.create(device("dev1"))
            let stale = TwinState().etag
            let (row, version) = try await store.updateTwin(deviceID: "dev1", moduleID: nil, ifMatch: stale) { twin in
                try twin.patchReported(["t": 1], at: fixedDate)
            }
            #expect(version == 2)
            await #expect(throws: StoreError.preconditionFailed(currentETag: row.twin.etag)) {
                try await store.updateTwin(deviceID: "dev1", moduleID: nil, ifMatch: stale) { twin in try twin.patchTags(["x": 1]) }
            }
            let stored = try await store.twin(deviceID: "dev1", moduleID: nil)
            #expect(stored?.twin == row.twin)
            await #expect(throws: StoreError.notFound) {
                try await store.updateTwin(deviceID: "ghost", moduleID: nil, ifMatch: nil) { twin in try twin.patchTags(["x": 1]) }
            }
        }
    }

    @Test("a failing change leaves the stored twin as it was")
    func failedChange() async throws {
        try await withTemporaryStore { store, _ in
            try await store.create(device("dev1"))
            await #expect(throws: TwinRules.Violation.self) {
                try await store.updateTwin(deviceID: "dev1", moduleID: nil, ifMatch: "*") { twin in
                    try twin.patchTags(["ok": 1])
                    try twin.patchTags(["bad.name": 1])
                }
            }
            #expect(try await store.twin(deviceID: "dev1", moduleID: nil)?.twin == TwinState())
        }
    }

    @Test("concurrent patches all land: the final version counts every one, afterCommit sees them in order")
    func concurrentPatches() async throws {
        try await withTemporaryStore { store, _ in
            try await store.create(device("dev1"))
            let seen = SeenVersions()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<40 {
                    group.addTask {
                        _ = try await store.updateTwin(deviceID: "dev1", moduleID: nil, ifMatch: "*") { twin in
                            try twin.patchDesired(["k\(i)": .number(Double(i))], at: fixedDate)
                        } afterCommit: { row, _ in seen.append(row.twin.desired.version) }
                    }
                }
                try await group.waitForAll()
            }
            let twin = try #require(try await store.twin(deviceID: "dev1", moduleID: nil)).twin
            #expect(twin.desired.version == 41)
            #expect(twin.desired.values.count == 40)
            #expect(seen.values == Array(2...41))
        }
    }

    @Test("module twins are separate from the device's and go with the module or the device")
    func moduleTwins() async throws {
        try await withTemporaryStore { store, _ in
            try await store.create(device("dev1"))
            try await store.create(module("dev1", "m1"))
            _ = try await store.updateTwin(deviceID: "dev1", moduleID: "m1", ifMatch: nil) { twin in try twin.patchTags(["m": 1]) }
            #expect(try await store.twin(deviceID: "dev1", moduleID: nil)?.twin == TwinState())
            #expect(try await store.allTwins(modules: true).map(\.twin.tags) == [["m": 1]])
            #expect(try await store.allTwins(modules: false).map(\.identity.deviceId) == ["dev1"])
            try await store.delete(deviceID: "dev1", moduleID: "m1", ifMatch: nil)
            try await store.create(module("dev1", "m1"))
            #expect(try await store.twin(deviceID: "dev1", moduleID: "m1")?.twin == TwinState())
        }
    }
}

@Suite("Cloud-to-device queue")
struct CloudToDeviceStoreTests {
    func message(_ device: String, _ id: String, ttl: TimeInterval = 3600, at time: Date = fixedDate) -> CloudToDeviceRecord {
        CloudToDeviceRecord(deviceId: device, messageId: id, body: Data(id.utf8), properties: [("$.mid", id), ("k", "v")],
                            enqueuedTime: time, expiryTime: time.addingTimeInterval(ttl))
    }

    @Test("messages queue in order, count in the registry, and leave only when completed")
    func queueAndComplete() async throws {
        try await withTemporaryStore { store, _ in
            try await store.create(device("dev1"))
            for i in 1...3 { _ = try await store.enqueueCloudToDevice(message("dev1", "m\(i)"), maxDepth: 50) }
            let pending = try await store.pendingCloudToDevice(deviceID: "dev1", now: fixedDate)
            #expect(pending.map(\.messageId) == ["m1", "m2", "m3"])
            #expect(pending[0].propertyPairs.map { [$0.0, $0.1] } == [["$.mid", "m1"], ["k", "v"]])
            #expect(try await store.identity(deviceID: "dev1")?.cloudToDeviceMessageCount == 3)
            try await store.markCloudToDeviceDelivered(id: pending[0].id!)
            try await store.completeCloudToDevice(id: pending[0].id!)
            #expect(try await store.pendingCloudToDevice(deviceID: "dev1", now: fixedDate).map(\.messageId) == ["m2", "m3"])
            #expect(try await store.identity(deviceID: "dev1")?.cloudToDeviceMessageCount == 2)
        }
    }

    @Test("the queue refuses a message beyond its depth; expired ones do not count and are not delivered")
    func depthAndExpiry() async throws {
        try await withTemporaryStore { store, _ in
            try await store.create(device("dev1"))
            _ = try await store.enqueueCloudToDevice(message("dev1", "short", ttl: 1), maxDepth: 2)
            _ = try await store.enqueueCloudToDevice(message("dev1", "long"), maxDepth: 2)
            await #expect(throws: StoreError.queueFull(depth: 2)) {
                try await store.enqueueCloudToDevice(message("dev1", "third"), maxDepth: 2)
            }
            let later = fixedDate.addingTimeInterval(5)
            #expect(try await store.pendingCloudToDevice(deviceID: "dev1", now: later).map(\.messageId) == ["long"])
            let (_, depth) = try await store.enqueueCloudToDevice(message("dev1", "third", at: later), maxDepth: 2)
            #expect(depth == 2)
            #expect(try await store.expireCloudToDevice(now: later.addingTimeInterval(7200)) == 2)
            #expect(try await store.identity(deviceID: "dev1")?.cloudToDeviceMessageCount == 0)
        }
    }

    @Test("unknown devices are refused; purge empties the queue; deleting the device drops it")
    func purgeAndDelete() async throws {
        try await withTemporaryStore { store, _ in
            await #expect(throws: StoreError.notFound) { try await store.enqueueCloudToDevice(message("ghost", "m"), maxDepth: 50) }
            try await store.create(device("dev1"))
            for i in 1...2 { _ = try await store.enqueueCloudToDevice(message("dev1", "m\(i)"), maxDepth: 50) }
            #expect(try await store.purgeCloudToDevice(deviceID: "dev1") == 2)
            #expect(try await store.identity(deviceID: "dev1")?.cloudToDeviceMessageCount == 0)
            _ = try await store.enqueueCloudToDevice(message("dev1", "m3"), maxDepth: 50)
            try await store.delete(deviceID: "dev1", moduleID: nil, ifMatch: nil)
            try await store.create(device("dev1"))
            #expect(try await store.pendingCloudToDevice(deviceID: "dev1", now: fixedDate).isEmpty)
        }
    }
}

/// Versions reported by `afterCommit`, which runs on the store's writer.
final class SeenVersions: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [Int] = []
    func append(_ v: Int) { lock.lock(); list.append(v); lock.unlock() }
    var values: [Int] { lock.lock(); defer { lock.unlock() }; return list }
}
