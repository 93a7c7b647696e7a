import Foundation
import HubStore
import Testing

/// Collects completions from the writer thread.
final class Completions<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [(index: Int, result: Result<Value, Error>)] = []
    private var waiter: CheckedContinuation<Void, Never>?
    private let expected: Int

    init(expected: Int) { self.expected = expected }

    func record(_ index: Int, _ result: Result<Value, Error>) {
        lock.lock()
        results.append((index, result))
        let done = results.count == expected ? waiter : nil
        if done != nil { waiter = nil }
        lock.unlock()
        done?.resume()
    }

    func wait() async {
        await withCheckedContinuation { cont in
            lock.lock()
            if results.count == expected { lock.unlock(); cont.resume(); return }
            waiter = cont
            lock.unlock()
        }
    }

    var all: [(index: Int, result: Result<Value, Error>)] {
        lock.lock(); defer { lock.unlock() }
        return results
    }
}

@Suite("Telemetry store and group commit")
struct TelemetryStoreTests {
    @Test("sequence numbers increase from 1, and the stored message is what was submitted")
    func sequenceNumbers() async throws {
        try await withTemporaryStore { store, _ in
            let writer = TelemetryWriter(store: store)
            writer.start()
            defer { writer.stop() }
            for i in 0..<20 {
                let stored = try await writer.submit(telemetry("dev1", "{\"n\":\(i)}", module: i % 2 == 0 ? nil : "m"))
                #expect(stored.enqueuedTime > 0)
                #expect(stored.body == Data("{\"n\":\(i)}".utf8))
            }
            #expect(try await store.lastSequenceNumber() == 20)
            let read = try await store.messages(after: 0, limit: 100)
            #expect(read.map(\.sequenceNumber) == (1...20).map { Int64($0) })
            #expect(read.map { String(decoding: $0.body, as: UTF8.self) } == (0..<20).map { "{\"n\":\($0)}" })
            #expect(read[3].moduleId == "m")
            #expect(read[4].moduleId == nil)
        }
    }

    /// The records that `submit` completes with, and that `onCommit` receives, should carry the
    /// sequence number the database assigned: the hub's live feed (Hub.swift, onCommit) wakes
    /// monitor-events readers with `stored.last?.sequenceNumber`.
    @Test("submit completes with the sequence number the database assigned")
    func submitReturnsSequenceNumber() async throws {
        try await withTemporaryStore { store, _ in
            let committed = Completions<TelemetryRecord>(expected: 3)
            let writer = TelemetryWriter(store: store) { batch in
                for record in batch { committed.record(0, .success(record)) }
            }
            writer.start()
            defer { writer.stop() }
            var returned: [Int64?] = []
            for _ in 0..<3 { returned.append(try await writer.submit(telemetry("dev1")).sequenceNumber) }
            await committed.wait()
            let seen = try committed.all.map { try $0.result.get().sequenceNumber }
            #expect(returned == [1, 2, 3])
            #expect(seen == [1, 2, 3])
        }
    }

    @Test("completions run in submission order; onCommit sees every record once, in order")
    func completionOrder() async throws {
        try await withTemporaryStore { store, _ in
            let committed = Completions<TelemetryRecord>(expected: 500)
            let writer = TelemetryWriter(store: store, maxBatch: 64) { batch in
                for record in batch { committed.record(Int(String(decoding: record.body, as: UTF8.self)) ?? -1, .success(record)) }
            }
            writer.start()
            defer { writer.stop() }
            let completions = Completions<TelemetryStored>(expected: 500)
            for i in 0..<500 {
                writer.submit(telemetry("dev\(i % 7)", "\(i)")) { completions.record(i, $0) }
            }
            await completions.wait()
            await committed.wait()
            let all = completions.all
            #expect(all.map(\.index) == Array(0..<500))
            #expect(try all.map { try $0.result.get().sequenceNumber } == (1...500).map { Int64($0) })
            #expect(committed.all.map(\.index) == Array(0..<500))
            // Sequence numbers follow submission order.
            let stored = try await store.messages(after: 0, limit: 1000)
            #expect(stored.map(\.sequenceNumber) == (1...500).map { Int64($0) })
            #expect(stored.map { String(decoding: $0.body, as: UTF8.self) } == (0..<500).map(String.init))
        }
    }

    @Test("many concurrent submitters all complete, with distinct sequence numbers, each in its own order")
    func concurrentSubmitters() async throws {
        try await withTemporaryStore { store, _ in
            let writer = TelemetryWriter(store: store)
            writer.start()
            defer { writer.stop() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for t in 0..<8 {
                    group.addTask {
                        for i in 0..<50 { _ = try await writer.submit(telemetry("dev\(t)", "\(i)")) }
                    }
                }
                try await group.waitForAll()
            }
            let all = try await store.messages(after: 0, limit: 1000)
            #expect(all.map(\.sequenceNumber) == (1...400).map { Int64($0) })
            for t in 0..<8 {
                let mine = try await store.messages(after: 0, deviceID: "dev\(t)", limit: 1000)
                #expect(mine.map { String(decoding: $0.body, as: UTF8.self) } == (0..<50).map(String.init), "dev\(t)")
            }
        }
    }

    @Test("stop() writes everything already submitted, then refuses new submissions")
    func stopFlushes() async throws {
        try await withTemporaryStore { store, _ in
            let writer = TelemetryWriter(store: store, maxBatch: 16)
            writer.start()
            let completions = Completions<TelemetryStored>(expected: 300)
            for i in 0..<300 { writer.submit(telemetry("dev1", "\(i)")) { completions.record(i, $0) } }
            writer.stop()
            // stop() returned: every completion has run, every message is stored.
            let all = completions.all
            #expect(all.count == 300)
            #expect(all.allSatisfy { (try? $0.result.get()) != nil })
            let last = try await store.lastSequenceNumber()
            #expect(last == 300)

            let late = Completions<TelemetryStored>(expected: 1)
            writer.submit(telemetry("dev1")) { late.record(0, $0) }
            await late.wait()
            #expect(throws: CancellationError.self) { try late.all[0].result.get() }
            writer.stop() // a second stop is harmless
        }
    }

    @Test("messages(after:) pages through the stream, per device or all")
    func paging() async throws {
        try await withTemporaryStore { store, _ in
            let writer = TelemetryWriter(store: store)
            writer.start()
            defer { writer.stop() }
            for i in 0..<10 { _ = try await writer.submit(telemetry(i % 2 == 0 ? "even" : "odd", "\(i)")) }
            #expect(try await store.messages(after: 0, limit: 3).map(\.sequenceNumber) == [1, 2, 3])
            #expect(try await store.messages(after: 3, limit: 3).map(\.sequenceNumber) == [4, 5, 6])
            #expect(try await store.messages(after: 0, deviceID: "odd", limit: 100).map(\.sequenceNumber) == [2, 4, 6, 8, 10])
            #expect(try await store.messages(after: 10, limit: 100) == [])
        }
    }

    @Test("consumer group positions: none, set, moved, listed by name")
    func consumerGroups() async throws {
        try await withTemporaryStore { store, _ in
            #expect(try await store.consumerGroupPosition("$Default") == nil)
            try await store.setConsumerGroupPosition("$Default", 5)
            try await store.setConsumerGroupPosition("analytics", 2)
            try await store.setConsumerGroupPosition("$Default", 9)
            #expect(try await store.consumerGroupPosition("$Default") == 9)
            let groups = try await store.consumerGroups()
            #expect(groups.map(\.name) == ["$Default", "analytics"])
            #expect(groups.map(\.position) == [9, 2])
        }
    }

    @Test("deleteMessages(enqueuedBefore:) removes older messages and says how many; position(atEnqueuedTime:)")
    func retention() async throws {
        try await withTemporaryStore { store, _ in
            let writer = TelemetryWriter(store: store)
            writer.start()
            defer { writer.stop() }
            var stored: [TelemetryRecord] = []
            for i in 0..<4 {
                stored.append(try await writer.submit(telemetry("dev1", "\(i)")))
                try await Task.sleep(for: .milliseconds(5)) // distinct enqueued times (ms)
            }
            let times = stored.map(\.enqueuedTime)
            #expect(times == times.sorted() && Set(times).count == 4)

            #expect(try await store.position(atEnqueuedTime: times[2]) == 2)
            #expect(try await store.position(atEnqueuedTime: 0) == 0)
            #expect(try await store.position(atEnqueuedTime: times[3] + 1000) == 4)

            let stats = try await store.telemetryStats()
            #expect(stats.messageCount == 4)
            #expect(stats.firstSequenceNumber == 1 && stats.lastSequenceNumber == 4)
            #expect(stats.oldestEnqueuedTime == times[0] && stats.newestEnqueuedTime == times[3])
            #expect(stats.bodyBytes == 4)

            #expect(try await store.deleteMessages(enqueuedBefore: times[2]) == 2)
            #expect(try await store.messages(after: 0, limit: 10).map(\.sequenceNumber) == [3, 4])
            #expect(try await store.deleteMessages(enqueuedBefore: times[2]) == 0)
            #expect(try await store.telemetryStats().firstSequenceNumber == 3)
            // The hub-wide sequence never goes back, even when the newest messages are deleted.
            #expect(try await store.deleteMessages(enqueuedBefore: times[3] + 1) == 2)
            _ = try await writer.submit(telemetry("dev1"))
            #expect(try await store.messages(after: 0, limit: 10).map(\.sequenceNumber) == [5])
        }
    }

    @Test("empty store statistics")
    func emptyStats() async throws {
        try await withTemporaryStore { store, _ in
            let stats = try await store.telemetryStats()
            #expect(stats.messageCount == 0 && stats.bodyBytes == 0)
            #expect(stats.firstSequenceNumber == nil && stats.lastSequenceNumber == nil)
            #expect(stats.oldestEnqueuedTime == nil && stats.newestEnqueuedTime == nil)
            #expect(try await store.lastSequenceNumber() == 0)
            #expect(try await store.position(atEnqueuedTime: 0) == 0)
        }
    }
}
