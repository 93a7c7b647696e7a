import Foundation
import GRDB
import Twin

/// Twins: read and changed whole, inside one write transaction, so concurrent patches from
/// the device and the service serialise and none is lost.
extension SQLiteHubStore {
    public struct TwinRow: Sendable {
        public var identity: IdentityRecord
        public var twin: TwinState
    }

    public func twin(deviceID: String, moduleID: String?) async throws -> TwinRow? {
        try await pool.read { db in
            guard let identity = try Self.fetchIdentity(db, deviceID, moduleID) else { return nil }
            return TwinRow(identity: identity, twin: try Self.fetchTwin(db, deviceID, moduleID))
        }
    }

    /// Applies `change` to the stored twin if `ifMatch` is nil, `*` or the twin's ETag, and
    /// saves it when its version moved. `afterCommit` runs once the change is durable but before
    /// the next writer starts, so what it sends out (desired patches) leaves in version order.
    /// Returns the row after the change and `change`'s result.
    public func updateTwin<Result: Sendable>(
        deviceID: String, moduleID: String?, ifMatch: String?,
        _ change: @Sendable @escaping (inout TwinState) throws -> Result,
        afterCommit: @Sendable @escaping (TwinRow, Result) -> Void = { _, _ in }
    ) async throws -> (TwinRow, Result) {
        try await pool.writeWithoutTransaction { db in
            var outcome: (TwinRow, Result)?
            try db.inTransaction {
                guard let identity = try Self.fetchIdentity(db, deviceID, moduleID) else { throw StoreError.notFound }
                var twin = try Self.fetchTwin(db, deviceID, moduleID)
                if let ifMatch, ifMatch != "*", ifMatch != twin.etag {
                    throw StoreError.preconditionFailed(currentETag: twin.etag)
                }
                let before = twin.version
                let result = try change(&twin)
                if twin.version != before {
                    try db.execute(
                        sql: "INSERT OR REPLACE INTO twins (deviceId, moduleId, state) VALUES (?, ?, ?)",
                        arguments: [deviceID, moduleID ?? "", try Self.encode(twin)])
                }
                outcome = (TwinRow(identity: identity, twin: twin), result)
                return .commit
            }
            afterCommit(outcome!.0, outcome!.1)
            return outcome!
        }
    }

    /// Every device twin, or every module twin, with its registry entry, ordered by id: the
    /// input of a query.
    public func allTwins(modules: Bool) async throws -> [TwinRow] {
        try await pool.read { db in
            let identities = modules
                ? try ModuleRow.order(Column("deviceId"), Column("moduleId")).fetchAll(db).map(\.record)
                : try IdentityRecord.order(Column("deviceId")).fetchAll(db)
            var states: [String: TwinState] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT deviceId, moduleId, state FROM twins WHERE (moduleId = '') = ?",
                                           arguments: [!modules])
            while let row = try rows.next() {
                let key = "\(row["deviceId"] as String)/\(row["moduleId"] as String)"
                states[key] = try Self.decodeTwin(row["state"])
            }
            return identities.map { identity in
                TwinRow(identity: identity, twin: states["\(identity.deviceId)/\(identity.moduleId)"] ?? TwinState())
            }
        }
    }

    static func fetchTwin(_ db: Database, _ deviceID: String, _ moduleID: String?) throws -> TwinState {
        guard let text = try String.fetchOne(db, sql: "SELECT state FROM twins WHERE deviceId = ? AND moduleId = ?",
                                             arguments: [deviceID, moduleID ?? ""]) else { return TwinState() }
        return try decodeTwin(text)
    }

    static func deleteTwin(_ db: Database, _ deviceID: String, _ moduleID: String?) throws {
        try db.execute(sql: "DELETE FROM twins WHERE deviceId = ? AND moduleId = ?", arguments: [deviceID, moduleID ?? ""])
    }

    private static func encode(_ twin: TwinState) throws -> String {
        String(decoding: try JSONEncoder().encode(twin), as: UTF8.self)
    }

    private static func decodeTwin(_ text: String) throws -> TwinState {
        try JSONDecoder().decode(TwinState.self, from: Data(text.utf8))
    }
}
