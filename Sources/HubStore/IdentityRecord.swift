import Foundation
import GRDB

/// A device or a module in the registry: one row of `devices` (moduleId empty) or `modules`.
/// Connection-state columns are updated by the hub as clients come and go.
public struct IdentityRecord: Codable, Sendable, Equatable {
    public var deviceId: String
    /// Empty for a device row; set for a module row. (Modules live in their own table but share
    /// the shape, so that the registry code treats both alike.)
    public var moduleId: String
    public var generationId: String
    public var etag: String
    public var status: String
    public var statusReason: String?
    public var statusUpdatedTime: Date?
    public var authType: String
    public var primaryKey: String?
    public var secondaryKey: String?
    public var primaryThumbprint: String?
    public var secondaryThumbprint: String?
    public var managedBy: String?
    public var iotEdge: Bool
    public var connectionState: String
    public var connectionStateUpdatedTime: Date?
    public var lastActivityTime: Date?
    public var cloudToDeviceMessageCount: Int
    public var createdTime: Date

    public init(deviceId: String, moduleId: String = "", generationId: String, etag: String,
                status: String = "enabled", statusReason: String? = nil, statusUpdatedTime: Date? = nil,
                authType: String = "sas", primaryKey: String? = nil, secondaryKey: String? = nil,
                primaryThumbprint: String? = nil, secondaryThumbprint: String? = nil,
                managedBy: String? = nil, iotEdge: Bool = false,
                connectionState: String = "Disconnected", connectionStateUpdatedTime: Date? = nil,
                lastActivityTime: Date? = nil, cloudToDeviceMessageCount: Int = 0, createdTime: Date) {
        self.deviceId = deviceId
        self.moduleId = moduleId
        self.generationId = generationId
        self.etag = etag
        self.status = status
        self.statusReason = statusReason
        self.statusUpdatedTime = statusUpdatedTime
        self.authType = authType
        self.primaryKey = primaryKey
        self.secondaryKey = secondaryKey
        self.primaryThumbprint = primaryThumbprint
        self.secondaryThumbprint = secondaryThumbprint
        self.managedBy = managedBy
        self.iotEdge = iotEdge
        self.connectionState = connectionState
        self.connectionStateUpdatedTime = connectionStateUpdatedTime
        self.lastActivityTime = lastActivityTime
        self.cloudToDeviceMessageCount = cloudToDeviceMessageCount
        self.createdTime = createdTime
    }

    public var isModule: Bool { !moduleId.isEmpty }
    public var isEnabled: Bool { status == "enabled" }
}

extension IdentityRecord: FetchableRecord, PersistableRecord {
    /// Device rows; module rows are written through `ModuleRow`, which names the other table.
    public static let databaseTableName = "devices"
}

/// The same record bound to the `modules` table.
struct ModuleRow: FetchableRecord, PersistableRecord {
    static let databaseTableName = "modules"
    var record: IdentityRecord

    init(_ record: IdentityRecord) { self.record = record }
    init(row: Row) throws { record = try IdentityRecord(row: row) }
    func encode(to container: inout PersistenceContainer) throws { try record.encode(to: &container) }
}
