import Foundation
import GRDB

/// One metric's aggregate over one minute.
public struct MetricSampleRow: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "metricSamples"
    public var name: String
    /// Unix time divided by 60.
    public var minute: Int64
    public var count: Int64
    public var total: Double
    public var minimum: Double
    public var maximum: Double

    public init(name: String, minute: Int64, count: Int64, total: Double, minimum: Double, maximum: Double) {
        self.name = name
        self.minute = minute
        self.count = count
        self.total = total
        self.minimum = minimum
        self.maximum = maximum
    }
}

/// Metric history (one row per metric and minute) and alert rules with their history. Rule
/// definitions and history entries are JSON: the hub reads and writes them whole.
extension SQLiteHubStore {
    public func saveMetricSamples(_ rows: [MetricSampleRow]) async throws {
        try await pool.write { db in
            for row in rows { try row.save(db) }
        }
    }

    public func metricSamples(name: String? = nil, fromMinute: Int64) async throws -> [MetricSampleRow] {
        try await pool.read { db in
            var request = MetricSampleRow.filter(Column("minute") >= fromMinute)
            if let name { request = request.filter(Column("name") == name) }
            return try request.order(Column("minute"), Column("name")).fetchAll(db)
        }
    }

    @discardableResult
    public func deleteMetricSamples(beforeMinute: Int64) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM metricSamples WHERE minute < ?", arguments: [beforeMinute])
            return db.changesCount
        }
    }

    // MARK: alerts

    public struct AlertRow: Sendable, Equatable {
        public var name: String
        public var definition: String
        public var state: String
        public var updatedTime: Date
    }

    public func saveAlert(name: String, definition: String, state: String) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO alerts (name, definition, state, updatedTime) VALUES (?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET definition = excluded.definition, state = excluded.state, updatedTime = excluded.updatedTime
                """, arguments: [name, definition, state, StoredTime(Date())])
        }
    }

    public func setAlertState(name: String, state: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE alerts SET state = ?, updatedTime = ? WHERE name = ?", arguments: [state, StoredTime(Date()), name])
        }
    }

    public func alerts() async throws -> [AlertRow] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT name, definition, state, updatedTime FROM alerts ORDER BY name").map {
                AlertRow(name: $0["name"], definition: $0["definition"], state: $0["state"], updatedTime: $0["updatedTime"])
            }
        }
    }

    /// Returns whether there was such an alert.
    public func deleteAlert(name: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM alerts WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

    public func appendAlertHistory(name: String, time: Date, entry: String) async throws -> Int64 {
        try await pool.write { db in
            try db.execute(sql: "INSERT INTO alertHistory (name, time, entry) VALUES (?, ?, ?)", arguments: [name, StoredTime(time), entry])
            return db.lastInsertedRowID
        }
    }

    public func updateAlertHistory(id: Int64, entry: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE alertHistory SET entry = ? WHERE id = ?", arguments: [entry, id])
        }
    }

    public func alertHistory(name: String, limit: Int = 500) async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT entry FROM (SELECT id, entry FROM alertHistory WHERE name = ? ORDER BY id DESC LIMIT ?) ORDER BY id",
                                arguments: [name, limit])
        }
    }
}
