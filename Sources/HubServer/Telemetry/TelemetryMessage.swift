import Foundation
import HubStore
import IoTProtocol
import NIOCore

/// Turns a device's PUBLISH into the stored record, and a stored record into the JSON a reader
/// of the Event Hubs-compatible endpoint gets.
public enum TelemetryMessage {
    /// - Parameter connectionSystemJSON: `systemProperties(for:generationID:)` of this
    ///   connection, which a message without a property bag stores as is: the fan-in profile
    ///   spent 11 % of the hub's CPU building the same object for every message.
    public static func record(from identity: IdentityID, propertyBag: String, payload: ByteBuffer,
                              generationID: String, connectionSystemJSON: String? = nil) throws -> TelemetryRecord {
        let body = Data(payload.readableBytesView)
        if propertyBag.isEmpty, let connectionSystemJSON {
            return TelemetryRecord(deviceId: identity.deviceID, moduleId: identity.moduleID, enqueuedTime: 0,
                                   body: body, properties: "{}", systemProperties: connectionSystemJSON)
        }
        let bag = try PropertyBag(parsing: Substring(propertyBag))
        let system = bag.system.merging(connectionSystem(identity, generationID: generationID)) { _, connection in connection }
        return TelemetryRecord(deviceId: identity.deviceID, moduleId: identity.moduleID, enqueuedTime: 0,
                               body: body, properties: jsonObject(bag.application), systemProperties: jsonObject(system))
    }

    /// The system properties the hub adds to every message of a connection, as stored JSON.
    public static func systemProperties(for identity: IdentityID, generationID: String) -> String {
        jsonObject(connectionSystem(identity, generationID: generationID))
    }

    private static func connectionSystem(_ identity: IdentityID, generationID: String) -> [String: String] {
        var system = ["iothub-connection-device-id": identity.deviceID]
        if let m = identity.moduleID { system["iothub-connection-module-id"] = m }
        system["iothub-connection-auth-method"] = #"{"scope":"\#(identity.moduleID == nil ? "device" : "module")","type":"sas","issuer":"iothub","acceptingIpFilterRule":null}"#
        system["iothub-connection-auth-generation-id"] = generationID
        system["iothub-message-source"] = "Telemetry"
        return system
    }

    /// One event as `monitor-events` prints it.
    public static func json(_ r: TelemetryRecord) -> [String: Any] {
        var system = (parseObject(r.systemProperties) as? [String: Any]) ?? [:]
        let enqueued = iso8601(milliseconds: r.enqueuedTime)
        system["iothub-enqueuedtime"] = enqueued
        var event: [String: Any] = [
            "deviceId": r.deviceId,
            "moduleId": r.moduleId ?? NSNull(),
            "properties": parseObject(r.properties) ?? [:],
            "systemProperties": system,
            "sequenceNumber": r.sequenceNumber ?? 0,
            "enqueuedTime": enqueued,
        ]
        if let text = String(data: r.body, encoding: .utf8) {
            event["body"] = text
        } else {
            event["body"] = r.body.base64EncodedString()
            event["bodyEncoding"] = "base64"
        }
        return event
    }

    static func jsonObject(_ dict: [String: String]) -> String { TelemetryJSON.object(dict) }

    static func parseObject(_ text: String) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    public static func iso8601(milliseconds: Int64) -> String {
        if let fast = TelemetryJSON.iso8601(milliseconds: milliseconds) { return fast }
        let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        return date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
