import Foundation
import IoTProtocol
import Twin

/// What the Connections log says about a connection, gathered as it goes.
struct ConnectionFacts {
    var protocolName: String
    var remoteAddress = "unknown"
    var identity: IdentityID?
    var sdkVersion: String?
    var keepAliveSeconds: Int?
    var connectedAt: Date?

    var properties: [String: JSONValue] {
        var p: [String: JSONValue] = [
            "protocol": .string(protocolName), "authType": "sas",
            "maskedIpAddress": .string(ResourceLog.maskedIP(remoteAddress)),
            "sdkVersion": sdkVersion.map(JSONValue.string) ?? .null,
        ]
        if let keepAliveSeconds { p["keepAliveSeconds"] = .number(Double(keepAliveSeconds)) }
        return p
    }
}

/// The Connections log: one `deviceConnect` record when a client is accepted or refused, one
/// `deviceDisconnect` when an accepted client goes, classified by `DisconnectReason`.
extension MQTTConnectionHandler {
    func recordConnected() {
        facts.connectedAt = Date()
        hub.diagnostics.record(DiagnosticRecord(
            category: .connections, operationName: "deviceConnect", error: nil,
            deviceID: facts.identity?.deviceID, moduleID: facts.identity?.moduleID, properties: facts.properties))
    }

    /// A device-to-cloud message was refused or lost before it was stored.
    func telemetryFailed(_ identity: IoTProtocol.IdentityID, _ detail: String, code: IoTHubErrorCode = .argumentInvalid) {
        hub.metrics.increment(.telemetryFailure)
        hub.diagnostics.record(DiagnosticRecord(
            category: .deviceTelemetry, operationName: "ingress", error: code, detail: detail,
            deviceID: identity.deviceID, moduleID: identity.moduleID, properties: facts.properties))
    }

    func recordConnectionEnd(_ reason: DisconnectReason) {
        let now = Date()
        if let connectedAt = facts.connectedAt {
            hub.diagnostics.record(DiagnosticRecord(
                time: now, category: .connections, operationName: "deviceDisconnect", error: reason.errorCode,
                detail: reason.description, durationMs: Int64(now.timeIntervalSince(connectedAt) * 1000),
                deviceID: facts.identity?.deviceID, moduleID: facts.identity?.moduleID, properties: facts.properties))
            return
        }
        // Never accepted. A socket that closes before sending anything is a port probe or a
        // health check, not a device: nothing to log.
        switch reason {
        case .socketClosed where facts.identity == nil, .clientDisconnected where facts.identity == nil, .hubShuttingDown:
            return
        default:
            hub.diagnostics.record(DiagnosticRecord(
                time: now, category: .connections, operationName: "deviceConnect",
                error: reason.errorCode ?? .deviceConnectionClosedRemotely, detail: reason.description,
                deviceID: facts.identity?.deviceID, moduleID: facts.identity?.moduleID, properties: facts.properties))
        }
    }
}
