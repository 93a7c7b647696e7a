import Foundation
import GRDB
@testable import HubStore
import Testing

/// One device's messages are found through `messageBlocks` (a row per device and block of 1,024
/// sequence numbers) rather than an index entry per message.
@Suite("Telemetry: one device's messages by block")
struct TelemetryBlocksTests {
    /// Submits every record at once, so that they go in few large commits, and waits for all.
    func submitAll(_ writer: TelemetryWriter, _ deviceIDs: [String]) async throws {
        let done = Completions<TelemetryStored>(expected: deviceIDs.count)
        for (i, id) in deviceIDs.enumerated() { writer.submit(telemetry(id)) { done.record(i, $0) } }
        await done.wait()
        for entry in done.all { _ = try entry.result.get() }
    }

    @Test("a rare device among a busy one is found in each block it sent in, and nowhere else")
    func rareDevice() async throws {
        try await withTemporaryStore { store, _ in
            let writer = TelemetryWriter(store: store)
            writer.start()
            defer { writer.stop() }
            // Sequence numbers 5, 1,500 and 2,999: blocks 0, 1 and 2.
            let rare: Set<Int> = [5, 1_500, 2_999]
            try await submitAll(writer, (1...3_000).map { rare.contains($0) ? "rare" : "busy" })
            #expect(try await store.messages(after: 0, deviceID: "rare", limit: 2).map(\.sequenceNumber) == [5, 1_500])
            #expect(try await store.messages(after: 1_500, deviceID: "rare", limit: 10).map(\.sequenceNumber) == [2_999])
            #expect(try await store.messages(after: 2_999, deviceID: "rare", limit: 10) == [])
            #expect(try await store.messages(after: 0, deviceID: "nobody", limit: 10) == [])
            let busy = try await store.messages(after: 1_020, deviceID: "busy", limit: 10).map(\.sequenceNumber)
            #expect(busy == Array(1_021...1_030))
        }
    }

    @Test("one read stops after 32 blocks with messages; the next goes on from there")
    func boundedRead() async throws {
        try await withTemporaryStore { store, _ in
            let writer = TelemetryWriter(store: store)
            writer.start()
            defer { writer.stop() }
            // "rare" sends the first message of each of 34 blocks.
            let count = 34 * 1_024
            try await submitAll(writer, (1...count).map { $0 % 1_024 == 0 ? "rare" : "busy" })
            let first = try await store.messages(after: 0, deviceID: "rare", limit: 100)
            #expect(first.count == SQLiteHubStore.blocksPerRead)
            let rest = try await store.messages(after: first.last!.sequenceNumber!, deviceID: "rare", limit: 100)
            #expect((first + rest).map(\.sequenceNumber) == (1...34).map { Int64($0 * 1_024) })
        }
    }

    @Test("retention removes the blocks before the oldest message but keeps the newest, which the writer counts as written")
    func retentionKeepsNewestBlock() async throws {
        try await withTemporaryStore { store, _ in
            let writer = TelemetryWriter(store: store)
            writer.start()
            defer { writer.stop() }
            try await submitAll(writer, (1...1_030).map { _ in "dev1" })  // blocks 0 and 1
            #expect(try await store.deleteMessages(enqueuedBefore: Int64.max) == 1_030)
            let blocks = try await store.pool.read { try Int64.fetchAll($0, sql: "SELECT block FROM messageBlocks") }
            #expect(blocks == [1])
            // The same block again, for a device the writer has already recorded in it.
            _ = try await writer.submit(telemetry("dev1"))
            #expect(try await store.messages(after: 0, deviceID: "dev1", limit: 10).map(\.sequenceNumber) == [1_031])
        }
    }

    @Test("the migration fills messageBlocks from the messages already stored and drops the old index")
    func migration() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let pool = try DatabasePool(path: directory.databasePath)
        try HubDatabase.migrator.migrate(pool, upTo: "v3-diagnostics")
        try await pool.write { db in
            for (seq, device) in [(1, "a"), (2, "b"), (1_500, "a")] {
                try db.execute(sql: """
                    INSERT INTO messages (sequenceNumber, deviceId, enqueuedTime, body, properties, systemProperties)
                    VALUES (?, ?, 0, x'', '{}', '{}')
                    """, arguments: [seq, device])
            }
        }
        try pool.close()
        let store = try SQLiteHubStore(path: directory.databasePath)
        defer { try? store.close() }
        let rows = try await store.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT block, deviceId FROM messageBlocks ORDER BY block, deviceId").map { "\($0[0] as Int64)/\($0[1] as String)" }
        }
        #expect(rows == ["0/a", "0/b", "1/a"])
        #expect(try await store.messages(after: 1, deviceID: "a", limit: 10).map(\.sequenceNumber) == [1_500])
        let index = try await store.pool.read { try Bool.fetchOne($0, sql: "SELECT COUNT(*) > 0 FROM sqlite_master WHERE name = 'messages_by_device'") }
        #expect(index == false)
    }
}
