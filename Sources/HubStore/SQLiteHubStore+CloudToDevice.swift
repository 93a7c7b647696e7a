import Foundation
import GRDB

/// A cloud-to-device message waiting in a device's queue.
public struct CloudToDeviceRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "c2dMessages"

    public var id: Int64?
    public var deviceId: String
    public var messageId: String
    public var body: Data
    /// The property bag in delivery order, system keys (`$.mid` …) first, as JSON `[[k, v], …]`.
    public var properties: String
    public var enqueuedTime: Date
    public var expiryTime: Date
    public var deliveryCount: Int

    public init(deviceId: String, messageId: String, body: Data, properties: [(String, String)],
                enqueuedTime: Date, expiryTime: Date) {
        self.deviceId = deviceId
        self.messageId = messageId
        self.body = body
        let pairs = properties.map { [$0.0, $0.1] }
        self.properties = String(decoding: (try? JSONEncoder().encode(pairs)) ?? Data("[]".utf8), as: UTF8.self)
        self.enqueuedTime = enqueuedTime
        self.expiryTime = expiryTime
        self.deliveryCount = 0
    }

    public var propertyPairs: [(String, String)] {
        let pairs = (try? JSONDecoder().decode([[String]].self, from: Data(properties.utf8))) ?? []
        return pairs.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil }
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// Per-device C2D queues. The registry's `cloudToDeviceMessageCount` is kept equal to the
/// number of messages waiting, in the same transaction as every change to the queue.
extension SQLiteHubStore {
    /// Queues a message unless the device's queue already holds `maxDepth` live messages.
    /// Returns the queue depth after the insert.
    public func enqueueCloudToDevice(_ message: CloudToDeviceRecord, maxDepth: Int) async throws -> (CloudToDeviceRecord, Int) {
        try await pool.write { db in
            guard try Self.fetchIdentity(db, message.deviceId, nil) != nil else { throw StoreError.notFound }
            try Self.dropExpired(db, deviceID: message.deviceId, now: message.enqueuedTime)
            let depth = try Self.queueDepth(db, message.deviceId)
            guard depth < maxDepth else { throw StoreError.queueFull(depth: depth) }
            var stored = message
            try stored.insert(db)
            try Self.updateCount(db, message.deviceId)
            return (stored, depth + 1)
        }
    }

    /// Live messages for a device, oldest first.
    public func pendingCloudToDevice(deviceID: String, now: Date, limit: Int = 100) async throws -> [CloudToDeviceRecord] {
        try await pool.read { db in
            try CloudToDeviceRecord
                .filter(Column("deviceId") == deviceID && Column("expiryTime") > now)
                .order(Column("id")).limit(limit).fetchAll(db)
        }
    }

    public func markCloudToDeviceDelivered(id: Int64) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE c2dMessages SET deliveryCount = deliveryCount + 1 WHERE id = ?", arguments: [id])
        }
    }

    /// The device acknowledged the message (PUBACK): it leaves the queue.
    public func completeCloudToDevice(id: Int64) async throws {
        try await pool.write { db in
            guard let deviceID = try String.fetchOne(db, sql: "SELECT deviceId FROM c2dMessages WHERE id = ?", arguments: [id]) else { return }
            try db.execute(sql: "DELETE FROM c2dMessages WHERE id = ?", arguments: [id])
            try Self.updateCount(db, deviceID)
        }
    }

    /// Empties a device's queue; returns how many messages were removed.
    public func purgeCloudToDevice(deviceID: String) async throws -> Int {
        try await pool.write { db in
            guard try Self.fetchIdentity(db, deviceID, nil) != nil else { throw StoreError.notFound }
            try db.execute(sql: "DELETE FROM c2dMessages WHERE deviceId = ?", arguments: [deviceID])
            let removed = db.changesCount
            try Self.updateCount(db, deviceID)
            return removed
        }
    }

    /// Removes expired messages of every device; returns how many.
    @discardableResult
    public func expireCloudToDevice(now: Date) async throws -> Int {
        try await pool.write { db in
            let devices = try String.fetchAll(db, sql: "SELECT DISTINCT deviceId FROM c2dMessages WHERE expiryTime <= ?", arguments: [now])
            var removed = 0
            for device in devices {
                try Self.dropExpired(db, deviceID: device, now: now)
                removed += db.changesCount
                try Self.updateCount(db, device)
            }
            return removed
        }
    }

    private static func dropExpired(_ db: Database, deviceID: String, now: Date) throws {
        try db.execute(sql: "DELETE FROM c2dMessages WHERE deviceId = ? AND expiryTime <= ?", arguments: [deviceID, now])
    }

    private static func queueDepth(_ db: Database, _ deviceID: String) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM c2dMessages WHERE deviceId = ?", arguments: [deviceID]) ?? 0
    }

    private static func updateCount(_ db: Database, _ deviceID: String) throws {
        try db.execute(sql: """
            UPDATE devices SET cloudToDeviceMessageCount = (SELECT COUNT(*) FROM c2dMessages WHERE deviceId = ?)
            WHERE deviceId = ?
            """, arguments: [deviceID, deviceID])
    }
}
