import Foundation
import GRDB
import HubStore
import Testing

@Suite("When a commit counts as stored")
struct StoreSyncTests {
    static func writerSynchronous(_ sync: StoreSync, separateCheckpoints: Bool) throws -> Int? {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteHubStore(path: directory.databasePath, sync: sync, separateCheckpoints: separateCheckpoints)
        defer { try? store.close() }
        return try store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
    }

    /// GRDB's pool sets NORMAL on its writer when it enters WAL mode, after the connection's
    /// own setup: the store must set its choice after that, or `--sync full` does not fsync.
    @Test("the writer connection syncs as the store was told: FULL (2) or NORMAL (1)")
    func writerUsesTheChosenMode() throws {
        #expect(try Self.writerSynchronous(.full, separateCheckpoints: true) == 2)
        #expect(try Self.writerSynchronous(.full, separateCheckpoints: false) == 2)
        #expect(try Self.writerSynchronous(.normal, separateCheckpoints: true) == 1)
    }
}
