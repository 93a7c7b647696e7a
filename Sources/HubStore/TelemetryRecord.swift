import Foundation
import GRDB

/// One device-to-cloud message as stored: the payload with its properties, a hub-wide
/// sequence number assigned at insert, and the time the hub enqueued it.
public struct TelemetryRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "messages"

    public var sequenceNumber: Int64?
    public var deviceId: String
    public var moduleId: String?
    /// Milliseconds since 1970, UTC.
    public var enqueuedTime: Int64
    public var body: Data
    /// JSON objects of string to string.
    public var properties: String
    public var systemProperties: String

    public init(sequenceNumber: Int64? = nil, deviceId: String, moduleId: String?, enqueuedTime: Int64,
                body: Data, properties: String, systemProperties: String) {
        self.sequenceNumber = sequenceNumber
        self.deviceId = deviceId
        self.moduleId = moduleId
        self.enqueuedTime = enqueuedTime
        self.body = body
        self.properties = properties
        self.systemProperties = systemProperties
    }

    /// Read from the row directly rather than through Decodable, which was 5 % of the hub's CPU while
    /// the events endpoint streamed the fan-in (BENCHMARKS.md).
    public init(row: Row) throws {
        sequenceNumber = row["sequenceNumber"]
        deviceId = row["deviceId"]
        moduleId = row["moduleId"]
        enqueuedTime = row["enqueuedTime"]
        body = row["body"]
        properties = row["properties"]
        systemProperties = row["systemProperties"]
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        sequenceNumber = inserted.rowID
    }
}

/// How much telemetry the store holds, for `iothub messages stats` and retention.
public struct TelemetryStats: Codable, Sendable, Equatable {
    public var messageCount: Int
    public var firstSequenceNumber: Int64?
    public var lastSequenceNumber: Int64?
    public var oldestEnqueuedTime: Int64?
    public var newestEnqueuedTime: Int64?
    public var bodyBytes: Int64
}
