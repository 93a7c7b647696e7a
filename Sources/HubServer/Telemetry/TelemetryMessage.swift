import Foundation
import HubStore
import IoTProtocol
import NIOCore

/// Turns a device's PUBLISH into the stored record, and a stored record into the JSON a reader
/// of the Event Hubs-compatible endpoint gets.
public enum TelemetryMessage {
    public static func record(from identity: IdentityID, propertyBag: String, payload: ByteBuffer,
                              generationID: String) throws -> TelemetryRecord {
        let bag = try PropertyBag(parsing: Substring(propertyBag))
        var system = bag.system
        system["iothub-connection-device-id"] = identity.deviceID
        if let m = identity.moduleID { system["iothub-connection-module-id"] = m }
        system["iothub-connection-auth-method"] = #"{"scope":"\#(identity.moduleID == nil ? "device" : "module")","type":"sas","issuer":"iothub","acceptingIpFilterRule":null}"#
        system["iothub-connection-auth-generation-id"] = generationID
        system["iothub-message-source"] = "Telemetry"
        return TelemetryRecord(deviceId: identity.deviceID, moduleId: identity.moduleID, enqueuedTime: 0,
                               body: Data(payload.readableBytesView),
                               properties: jsonObject(bag.application), systemProperties: jsonObject(system))
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
