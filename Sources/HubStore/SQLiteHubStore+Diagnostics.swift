import Foundation
import GRDB

/// One diagnostic record (a resource-log event) as stored.
public struct DiagnosticRow: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "diagnostics"

    public var id: Int64?
    /// Unix milliseconds.
    public var time: Int64
    public var category: String
    public var operationName: String
    public var level: String
    public var resultType: String
    public var resultDescription: String
    public var durationMs: Int64?
    public var deviceId: String?
    public var moduleId: String?
    /// The record's `properties` object as JSON text.
    public var properties: String

    public init(time: Int64, category: String, operationName: String, level: String, resultType: String,
                resultDescription: String, durationMs: Int64?, deviceId: String?, moduleId: String?, properties: String) {
        self.time = time
        self.category = category
        self.operationName = operationName
        self.level = level
        self.resultType = resultType
        self.resultDescription = resultDescription
        self.durationMs = durationMs
        self.deviceId = deviceId
        self.moduleId = moduleId
        self.properties = properties
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// Per-category diagnostic settings.
public struct DiagnosticSettingRow: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "diagnosticSettings"
    public var category: String
    public var enabled: Bool
    public var retentionDays: Int
    public var sink: String?

    public init(category: String, enabled: Bool, retentionDays: Int, sink: String?) {
        self.category = category
        self.enabled = enabled
        self.retentionDays = retentionDays
        self.sink = sink
    }
}

extension SQLiteHubStore {
    /// Appends records in one transaction (the diagnostic log's batches).
    public func insertDiagnostics(_ rows: [DiagnosticRow]) throws {
        try pool.write { db in
            for var row in rows { try row.insert(db) }
        }
    }

    /// Records oldest first, filtered; `limit` keeps the newest ones.
    public func diagnostics(category: String? = nil, since: Int64? = nil, deviceID: String? = nil,
                            limit: Int? = nil) async throws -> [DiagnosticRow] {
        try await pool.read { db in
            var request = DiagnosticRow.all()
            if let category { request = request.filter(Column("category") == category) }
            if let since { request = request.filter(Column("time") >= since) }
            if let deviceID { request = request.filter(Column("deviceId") == deviceID) }
            if let limit {
                return try request.order(Column("id").desc).limit(limit).fetchAll(db).reversed()
            }
            return try request.order(Column("id")).fetchAll(db)
        }
    }

    /// Removes a category's records older than `before` (Unix ms); returns how many.
    @discardableResult
    public func deleteDiagnostics(category: String, before: Int64) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM diagnostics WHERE category = ? AND time < ?", arguments: [category, before])
            return db.changesCount
        }
    }

    public func diagnosticSettings() throws -> [DiagnosticSettingRow] {
        try pool.read { db in try DiagnosticSettingRow.fetchAll(db) }
    }

    public func saveDiagnosticSetting(_ setting: DiagnosticSettingRow) async throws {
        try await pool.write { db in try setting.save(db) }
    }
}
