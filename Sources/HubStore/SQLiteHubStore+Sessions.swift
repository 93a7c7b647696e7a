import Foundation
import GRDB

/// Persistent MQTT sessions (`clean_session=0`): a client's subscriptions outlive its
/// connection and a hub restart, because the Azure SDK never re-subscribes after reconnecting.
extension SQLiteHubStore {
    /// The stored subscriptions of `clientID`, or nil when it has no session.
    public func session(clientID: String) async throws -> [String: UInt8]? {
        try await pool.read { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM sessions WHERE clientId = ?", arguments: [clientID]) != nil else {
                return nil
            }
            var subs: [String: UInt8] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT topicFilter, qos FROM subscriptions WHERE clientId = ?", arguments: [clientID]) {
                subs[row["topicFilter"]] = row["qos"]
            }
            return subs
        }
    }

    public func createSession(clientID: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO sessions (clientId, createdTime) VALUES (?, ?)", arguments: [clientID, StoredTime(Date())])
        }
    }

    public func deleteSession(clientID: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE clientId = ?", arguments: [clientID])
        }
    }

    public func addSubscriptions(clientID: String, _ subscriptions: [(String, UInt8)]) async throws {
        try await pool.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO sessions (clientId, createdTime) VALUES (?, ?)", arguments: [clientID, StoredTime(Date())])
            for (filter, qos) in subscriptions {
                try db.execute(sql: "INSERT OR REPLACE INTO subscriptions (clientId, topicFilter, qos) VALUES (?, ?, ?)",
                               arguments: [clientID, filter, qos])
            }
        }
    }

    public func removeSubscriptions(clientID: String, _ filters: [String]) async throws {
        try await pool.write { db in
            for filter in filters {
                try db.execute(sql: "DELETE FROM subscriptions WHERE clientId = ? AND topicFilter = ?", arguments: [clientID, filter])
            }
        }
    }
}
