import Foundation
import GRDB

extension SQLiteHubStore {
    /// Messages after `sequenceNumber`, oldest first, optionally of one device. With a device,
    /// fewer than `limit` may come back while more follow; an empty answer means there are none.
    public func messages(after sequenceNumber: Int64, deviceID: String? = nil, limit: Int) async throws -> [TelemetryRecord] {
        try await pool.read { db in
            if let deviceID { return try Self.messages(db, after: sequenceNumber, deviceID: deviceID, limit: limit) }
            return try TelemetryRecord.filter(Column("sequenceNumber") > sequenceNumber)
                .order(Column("sequenceNumber")).limit(limit).fetchAll(db)
        }
    }

    /// How many blocks that hold the device's messages one read looks through at most, once it
    /// has found some: a device that sends once in a thousand costs many short reads rather
    /// than one long one.
    static let blocksPerRead = 32

    /// One device's messages: only the blocks that `messageBlocks` names for it are scanned.
    private static func messages(_ db: Database, after sequenceNumber: Int64, deviceID: String, limit: Int) throws -> [TelemetryRecord] {
        let nextBlock = try db.cachedStatement(sql: """
            SELECT block FROM messageBlocks WHERE block >= ? AND deviceId = ? ORDER BY block LIMIT 1
            """)
        let inBlock = try db.cachedStatement(sql: """
            SELECT * FROM messages WHERE sequenceNumber > ? AND sequenceNumber < ? AND deviceId = ?
            ORDER BY sequenceNumber LIMIT ?
            """)
        var found: [TelemetryRecord] = []
        var after = sequenceNumber
        var blocksRead = 0
        while found.count < limit && (found.isEmpty || blocksRead < blocksPerRead) {
            guard let block = try Int64.fetchOne(nextBlock, arguments: [TelemetryBlocks.block(of: after + 1), deviceID]) else { break }
            let end = TelemetryBlocks.firstSequenceNumber(of: block + 1)
            let start = max(after, TelemetryBlocks.firstSequenceNumber(of: block) - 1)
            found += try TelemetryRecord.fetchAll(inBlock, arguments: [start, end, deviceID, limit - found.count])
            after = end - 1
            blocksRead += 1
        }
        return found
    }

    public func lastSequenceNumber() async throws -> Int64 {
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(sequenceNumber), 0) FROM messages") ?? 0
        }
    }

    /// The highest sequence number ever assigned, from SQLite's AUTOINCREMENT counter, which
    /// keeps it after retention has deleted the message; read synchronously at start-up.
    public func lastSequenceNumberNow() throws -> Int64 {
        try pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'messages'") ?? 0
        }
    }

    /// The sequence number of the first message enqueued at or after `time` (ms), minus one:
    /// the position from which a reader starting at that time reads.
    public func position(atEnqueuedTime time: Int64) async throws -> Int64 {
        try await pool.read { db in
            let first = try Int64.fetchOne(db, sql: "SELECT MIN(sequenceNumber) FROM messages WHERE enqueuedTime >= ?", arguments: [time])
            if let first { return first - 1 }
            return try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(sequenceNumber), 0) FROM messages") ?? 0
        }
    }

    public func consumerGroupPosition(_ name: String) async throws -> Int64? {
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT position FROM consumerGroups WHERE name = ?", arguments: [name])
        }
    }

    public func setConsumerGroupPosition(_ name: String, _ position: Int64) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO consumerGroups (name, position, updatedTime) VALUES (?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET position = excluded.position, updatedTime = excluded.updatedTime
                """, arguments: [name, position, StoredTime(Date())])
        }
    }

    public func consumerGroups() async throws -> [(name: String, position: Int64)] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT name, position FROM consumerGroups ORDER BY name").map { ($0["name"], $0["position"]) }
        }
    }

    /// Deletes messages enqueued before `cutoff` (ms). Returns how many went.
    public func deleteMessages(enqueuedBefore cutoff: Int64) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM messages WHERE enqueuedTime < ?", arguments: [cutoff])
            let removed = db.changesCount
            // The newest block's rows stay even when every message went: the writer remembers
            // them as written and would not insert them again.
            let oldest = try Int64.fetchOne(db, sql: "SELECT MIN(sequenceNumber) FROM messages").map(TelemetryBlocks.block(of:))
            let keepFrom = try oldest ?? Int64.fetchOne(db, sql: "SELECT MAX(block) FROM messageBlocks") ?? 0
            try db.execute(sql: "DELETE FROM messageBlocks WHERE block < ?", arguments: [keepFrom])
            return removed
        }
    }

    public func telemetryStats() async throws -> TelemetryStats {
        try await pool.read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT COUNT(*) AS n, MIN(sequenceNumber) AS first, MAX(sequenceNumber) AS last,
                       MIN(enqueuedTime) AS oldest, MAX(enqueuedTime) AS newest,
                       COALESCE(SUM(LENGTH(body)), 0) AS bytes
                FROM messages
                """)!
            return TelemetryStats(messageCount: row["n"], firstSequenceNumber: row["first"], lastSequenceNumber: row["last"],
                                  oldestEnqueuedTime: row["oldest"], newestEnqueuedTime: row["newest"], bodyBytes: row["bytes"])
        }
    }

    /// A passive checkpoint on the writer's own connection, run by the telemetry writer between
    /// two commits when the `WALCheckpointer` found the WAL past its bound: no commit can come
    /// between, so every frame is copied and the next commit starts the WAL over. False when it
    /// did not copy everything: SQLite refuses a checkpoint (SQLITE_BUSY) while the
    /// checkpointer's own pass runs, and the writer must then try again after its next commit.
    @discardableResult
    public func checkpointBetweenCommits() -> Bool {
        guard let result = try? pool.writeWithoutTransaction({ db in try db.checkpoint(.passive) }) else { return false }
        return result.checkpointedFrameCount == result.walFrameCount
    }
}
