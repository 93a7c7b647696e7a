import Foundation
import HubStore
import Twin

/// The twin as the service API and queries see it: registry facts, tags and both property
/// sections with metadata. Field names follow IoT Hub's REST API (and azure-iot-hub's `Twin`).
enum TwinDocument {
    static func json(_ row: SQLiteHubStore.TwinRow) -> JSONValue {
        let r = row.identity, t = row.twin
        var doc: [String: JSONValue] = [
            "deviceId": .string(r.deviceId),
            "etag": .string(t.etag),
            "deviceEtag": .string(r.etag),
            "status": .string(r.status),
            "statusUpdateTime": .string(RegistryJSON.time(r.statusUpdatedTime)),
            "connectionState": .string(r.connectionState),
            "lastActivityTime": .string(RegistryJSON.time(r.lastActivityTime)),
            "cloudToDeviceMessageCount": .number(Double(r.cloudToDeviceMessageCount)),
            "authenticationType": .string(r.authType),
            "x509Thumbprint": .object([
                "primaryThumbprint": r.primaryThumbprint.map(JSONValue.string) ?? .null,
                "secondaryThumbprint": r.secondaryThumbprint.map(JSONValue.string) ?? .null,
            ]),
            "modelId": "",
            "version": .number(Double(t.version)),
            "tags": .object(t.tags),
            "properties": .object([
                "desired": t.desired.json(metadata: true),
                "reported": t.reported.json(metadata: true),
            ]),
        ]
        if r.isModule {
            doc["moduleId"] = .string(r.moduleId)
        } else {
            doc["capabilities"] = .object(["iotEdge": .bool(r.iotEdge)])
        }
        if let reason = r.statusReason { doc["statusReason"] = .string(reason) }
        return .object(doc)
    }
}
