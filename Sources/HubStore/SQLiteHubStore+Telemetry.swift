import Foundation
import GRDB

extension SQLiteHubStore {
    /// Messages after `sequenceNumber`, oldest first, optionally of one device.
    public func messages(after sequenceNumber: Int64, deviceID: String? = nil, limit: Int) async throws -> [TelemetryRecord] {
        try await pool.read { db in
            var request = TelemetryRecord.filter(Column("sequenceNumber") > sequenceNumber)
            if let deviceID { request = request.filter(Column("deviceId") == deviceID) }
            return try request.order(Column("sequenceNumber")).limit(limit).fetchAll(db)
        }
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
                """, arguments: [name, position, Date()])
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
            return db.changesCount
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
}
