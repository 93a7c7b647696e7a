import Foundation
import GRDB

/// When a committed transaction counts as stored: what the hub waits for before it sends PUBACK.
public enum StoreSync: String, Sendable, CaseIterable {
    /// After an fsync of the WAL: a committed message survives a power loss (the default).
    case full
    /// After the write reaches the operating system: a committed message survives the hub's own
    /// crash or `kill -9`, and a power loss may take the last moments back. The fsync then
    /// happens at checkpoints only, so a PUBACK no longer waits for the disk.
    case normal
}

/// Opens the hub's SQLite database in WAL mode and applies the schema migrations.
public enum HubDatabase {
    /// - Parameters:
    ///   - lowMemory: edgeHub's `OptimizeForPerformance=false`: one reader connection and a
    ///     256 KiB page cache per connection instead of SQLite's 2 MiB, for small devices.
    ///   - sync: when a commit returns; see `StoreSync`.
    ///   - separateCheckpoints: the caller runs a `WALCheckpointer`, so commits never checkpoint.
    public static func open(path: String, lowMemory: Bool = false, sync: StoreSync = .full,
                            separateCheckpoints: Bool = false) throws -> DatabasePool {
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(sync == .full ? "FULL" : "NORMAL")")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            if lowMemory { try db.execute(sql: "PRAGMA cache_size = -256") }
            if separateCheckpoints {
                try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
                // A WAL that grew under a burst is cut back to 64 MiB when it next starts over.
                try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
            }
        }
        if lowMemory { config.maximumReaderCount = 1 }
        config.busyMode = busyMode
        let pool = try DatabasePool(path: path, configuration: config)
        // Once more after the pool is open: DatabasePool sets `synchronous = NORMAL` on its
        // writer when it switches the file to WAL, after `prepareDatabase` ran, so until this
        // line commits were not synced whatever `sync` said (found counting fdatasync calls:
        // 12 in 5 s at 47,000 msg/s). Only the writer commits; readers never sync.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = \(sync == .full ? "FULL" : "NORMAL")")
        }
        try migrator.migrate(pool)
        return pool
    }

    /// How a connection waits for a lock that another holds: the telemetry writer for a
    /// checkpoint, or the other way round. SQLite's own timeout sleeps 1, 2, 5, 10, 15, 20 and
    /// 25 ms between tries, so a commit held back 20 ms by a checkpoint went on after 33 ms.
    /// Tries 0.2 ms apart go on within 0.2 ms of the release, for up to 10 s as before.
    public static let busyMode: Database.BusyMode = .callback { tries in
        guard tries < 50_000 else { return false }
        usleep(200)
        return true
    }

    /// Named migrations; once shipped, a migration never changes: add a new one instead.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-registry") { db in
            for table in ["devices", "modules"] {
                try db.create(table: table) { t in
                    t.column("deviceId", .text).notNull()
                    t.column("moduleId", .text).notNull().defaults(to: "")
                    t.column("generationId", .text).notNull()
                    t.column("etag", .text).notNull()
                    t.column("status", .text).notNull()
                    t.column("statusReason", .text)
                    t.column("statusUpdatedTime", .datetime)
                    t.column("authType", .text).notNull()
                    t.column("primaryKey", .text)
                    t.column("secondaryKey", .text)
                    t.column("primaryThumbprint", .text)
                    t.column("secondaryThumbprint", .text)
                    t.column("managedBy", .text)
                    t.column("iotEdge", .boolean).notNull().defaults(to: false)
                    t.column("connectionState", .text).notNull()
                    t.column("connectionStateUpdatedTime", .datetime)
                    t.column("lastActivityTime", .datetime)
                    t.column("cloudToDeviceMessageCount", .integer).notNull().defaults(to: 0)
                    t.column("createdTime", .datetime).notNull()
                    if table == "devices" {
                        t.primaryKey(["deviceId"])
                    } else {
                        t.primaryKey(["deviceId", "moduleId"])
                        t.foreignKey(["deviceId"], references: "devices", onDelete: .cascade)
                    }
                }
            }
        }
        m.registerMigration("v1-telemetry") { db in
            try db.create(table: "messages") { t in
                t.autoIncrementedPrimaryKey("sequenceNumber")
                t.column("deviceId", .text).notNull()
                t.column("moduleId", .text)
                t.column("enqueuedTime", .integer).notNull()
                t.column("body", .blob).notNull()
                t.column("properties", .text).notNull()
                t.column("systemProperties", .text).notNull()
            }
            try db.create(index: "messages_by_time", on: "messages", columns: ["enqueuedTime"])
            try db.create(index: "messages_by_device", on: "messages", columns: ["deviceId", "sequenceNumber"])
            try db.create(table: "consumerGroups") { t in
                t.primaryKey("name", .text)
                t.column("position", .integer).notNull()
                t.column("updatedTime", .datetime).notNull()
            }
        }
        m.registerMigration("v1-sessions") { db in
            try db.create(table: "sessions") { t in
                t.primaryKey("clientId", .text)
                t.column("createdTime", .datetime).notNull()
            }
            try db.create(table: "subscriptions") { t in
                t.column("clientId", .text).notNull().references("sessions", onDelete: .cascade)
                t.column("topicFilter", .text).notNull()
                t.column("qos", .integer).notNull()
                t.primaryKey(["clientId", "topicFilter"])
            }
        }
        m.registerMigration("v2-twins") { db in
            // One row per device or module twin; a missing row reads as a fresh twin. The
            // document is JSON (TwinState) because twins are read and written whole.
            try db.create(table: "twins") { t in
                t.column("deviceId", .text).notNull().references("devices", onDelete: .cascade)
                t.column("moduleId", .text).notNull().defaults(to: "")
                t.column("state", .text).notNull()
                t.primaryKey(["deviceId", "moduleId"])
            }
        }
        m.registerMigration("v2-c2d") { db in
            try db.create(table: "c2dMessages") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("deviceId", .text).notNull().references("devices", onDelete: .cascade)
                t.column("messageId", .text).notNull()
                t.column("body", .blob).notNull()
                t.column("properties", .text).notNull()
                t.column("enqueuedTime", .datetime).notNull()
                t.column("expiryTime", .datetime).notNull()
                t.column("deliveryCount", .integer).notNull().defaults(to: 0)
            }
            try db.create(index: "c2d_by_device", on: "c2dMessages", columns: ["deviceId", "id"])
        }
        m.registerMigration("v3-diagnostics") { db in
            try db.create(table: "diagnostics") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("time", .integer).notNull()  // Unix milliseconds
                t.column("category", .text).notNull()
                t.column("operationName", .text).notNull()
                t.column("level", .text).notNull()
                t.column("resultType", .text).notNull()
                t.column("resultDescription", .text).notNull()
                t.column("durationMs", .integer)
                t.column("deviceId", .text)
                t.column("moduleId", .text)
                t.column("properties", .text).notNull()
            }
            try db.create(index: "diagnostics_by_time", on: "diagnostics", columns: ["category", "time"])
            try db.create(index: "diagnostics_by_device", on: "diagnostics", columns: ["deviceId", "time"])
            try db.create(table: "diagnosticSettings") { t in
                t.primaryKey("category", .text)
                t.column("enabled", .boolean).notNull()
                t.column("retentionDays", .integer).notNull()
                t.column("sink", .text)
            }
            try db.create(table: "metricSamples") { t in
                t.column("name", .text).notNull()
                t.column("minute", .integer).notNull()  // Unix time / 60
                t.column("count", .integer).notNull()
                t.column("total", .double).notNull()
                t.column("minimum", .double).notNull()
                t.column("maximum", .double).notNull()
                t.primaryKey(["name", "minute"])
            }
            try db.create(table: "alerts") { t in
                t.primaryKey("name", .text)
                t.column("definition", .text).notNull()
                t.column("state", .text).notNull()
                t.column("updatedTime", .datetime).notNull()
            }
            try db.create(table: "alertHistory") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull().references("alerts", onDelete: .cascade)
                t.column("time", .datetime).notNull()
                t.column("entry", .text).notNull()
            }
        }
        m.registerMigration("v4-telemetry-device-blocks") { db in
            // The (deviceId, sequenceNumber) index cost each commit one page per device in it:
            // at 100 devices and batches of a few dozen, most of the bytes a message wrote to
            // the WAL (BENCHMARKS.md). A row per device and block of 1,024 sequence numbers says
            // where a device's messages are; its rows are appended, a few per block.
            try db.execute(sql: """
                CREATE TABLE messageBlocks (
                    block INTEGER NOT NULL,
                    deviceId TEXT NOT NULL,
                    PRIMARY KEY (block, deviceId)
                ) WITHOUT ROWID
                """)
            try db.execute(sql: """
                INSERT INTO messageBlocks (block, deviceId)
                SELECT DISTINCT sequenceNumber >> \(TelemetryBlocks.shift), deviceId FROM messages
                """)
            try db.execute(sql: "DROP INDEX messages_by_device")
        }
        return m
    }
}
