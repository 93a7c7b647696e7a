import Foundation
import GRDB

/// The embedded store: registry, telemetry, consumer-group positions and MQTT sessions in one
/// SQLite database (WAL). Thread-safe; every method may be called from any task.
public final class SQLiteHubStore: Sendable {
    public let pool: DatabasePool
    public let path: String

    public init(path: String, lowMemory: Bool = false, sync: StoreSync = .full, separateCheckpoints: Bool = false) throws {
        self.path = path
        self.pool = try HubDatabase.open(path: path, lowMemory: lowMemory, sync: sync, separateCheckpoints: separateCheckpoints)
    }

    public func close() throws { try pool.close() }

    // MARK: registry

    public func identity(deviceID: String, moduleID: String? = nil) async throws -> IdentityRecord? {
        try await pool.read { db in try Self.fetchIdentity(db, deviceID, moduleID) }
    }

    public func devices(limit: Int? = nil) async throws -> [IdentityRecord] {
        try await pool.read { db in
            var request = IdentityRecord.order(Column("deviceId"))
            if let limit { request = request.limit(limit) }
            return try request.fetchAll(db)
        }
    }

    public func modules(deviceID: String) async throws -> [IdentityRecord] {
        try await pool.read { db in
            try ModuleRow.filter(Column("deviceId") == deviceID).order(Column("moduleId")).fetchAll(db).map(\.record)
        }
    }

    /// Inserts a new identity; a module's device must exist.
    public func create(_ record: IdentityRecord) async throws {
        try await pool.write { db in
            if try Self.fetchIdentity(db, record.deviceId, record.isModule ? record.moduleId : nil) != nil {
                throw StoreError.alreadyExists
            }
            if record.isModule {
                guard try Self.fetchIdentity(db, record.deviceId, nil) != nil else { throw StoreError.notFound }
                try ModuleRow(record).insert(db)
            } else {
                try record.insert(db)
            }
        }
    }

    /// Replaces an identity if `ifMatch` is nil, `*`, or its current ETag. `change` sees the
    /// stored record and returns the new one.
    @discardableResult
    public func update(deviceID: String, moduleID: String?, ifMatch: String?,
                       _ change: @Sendable @escaping (IdentityRecord) throws -> IdentityRecord) async throws -> IdentityRecord {
        try await pool.write { db in
            guard let current = try Self.fetchIdentity(db, deviceID, moduleID) else { throw StoreError.notFound }
            if let ifMatch, ifMatch != "*", ifMatch != current.etag {
                throw StoreError.preconditionFailed(currentETag: current.etag)
            }
            let updated = try change(current)
            if moduleID != nil { try ModuleRow(updated).update(db) } else { try updated.update(db) }
            return updated
        }
    }

    public func delete(deviceID: String, moduleID: String?, ifMatch: String?) async throws {
        try await pool.write { db in
            guard let current = try Self.fetchIdentity(db, deviceID, moduleID) else { throw StoreError.notFound }
            if let ifMatch, ifMatch != "*", ifMatch != current.etag {
                throw StoreError.preconditionFailed(currentETag: current.etag)
            }
            if moduleID != nil { _ = try ModuleRow(current).delete(db) } else { _ = try current.delete(db) }
            // A device's twins, module twins and C2D queue go with it (foreign keys); a
            // module's twin is keyed by the pair, so it is removed here.
            try Self.deleteTwin(db, deviceID, moduleID)
        }
    }

    /// Records a connection or disconnection without touching the ETag (the registry entry's
    /// content did not change; IoT Hub behaves the same way).
    public func setConnectionState(deviceID: String, moduleID: String?, connected: Bool, at time: Date) async throws {
        try await pool.write { db in
            let table = moduleID == nil ? "devices" : "modules"
            try db.execute(
                sql: """
                UPDATE \(table) SET connectionState = ?, connectionStateUpdatedTime = ?, lastActivityTime = ?
                WHERE deviceId = ? AND moduleId = ?
                """,
                arguments: [connected ? "Connected" : "Disconnected", StoredTime(time), StoredTime(time), deviceID, moduleID ?? ""])
        }
    }

    /// Every identity is disconnected when the hub starts: no connection survives a restart.
    public func markAllDisconnected(at time: Date) throws {
        try pool.write { db in
            for table in ["devices", "modules"] {
                try db.execute(sql: "UPDATE \(table) SET connectionState = 'Disconnected', connectionStateUpdatedTime = ? WHERE connectionState != 'Disconnected'", arguments: [StoredTime(time)])
            }
        }
    }

    public struct RegistryStatistics: Sendable, Equatable {
        public var total: Int
        public var enabled: Int
        public var disabled: Int
        public var connected: Int
    }

    public func registryStatistics() async throws -> RegistryStatistics {
        try await pool.read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT COUNT(*) AS total,
                       COALESCE(SUM(status = 'enabled'), 0) AS enabled,
                       COALESCE(SUM(connectionState = 'Connected'), 0) AS connected
                FROM devices
                """)!
            let total: Int = row["total"], enabled: Int = row["enabled"]
            return RegistryStatistics(total: total, enabled: enabled, disabled: total - enabled, connected: row["connected"])
        }
    }

    static func fetchIdentity(_ db: Database, _ deviceID: String, _ moduleID: String?) throws -> IdentityRecord? {
        if let moduleID {
            return try ModuleRow.filter(Column("deviceId") == deviceID && Column("moduleId") == moduleID).fetchOne(db)?.record
        }
        return try IdentityRecord.filter(Column("deviceId") == deviceID).fetchOne(db)
    }
}
