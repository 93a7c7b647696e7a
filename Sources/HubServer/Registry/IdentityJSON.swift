import Foundation
import HubStore

/// The registry's JSON shapes, as IoT Hub's REST API (api-version 2021-04-12) writes and reads
/// them, and as `azure-iot-hub`'s `Device` and `Module` models (msrest) expect.
struct AuthenticationJSON: Codable, Sendable {
    struct SymmetricKey: Codable, Sendable { var primaryKey: String?; var secondaryKey: String? }
    struct Thumbprint: Codable, Sendable { var primaryThumbprint: String?; var secondaryThumbprint: String? }
    var symmetricKey: SymmetricKey?
    var x509Thumbprint: Thumbprint?
    var type: String?
}

struct DeviceJSON: Codable, Sendable {
    struct Capabilities: Codable, Sendable { var iotEdge: Bool? }
    var deviceId: String?
    var generationId: String?
    var etag: String?
    var connectionState: String?
    var status: String?
    var statusReason: String?
    var connectionStateUpdatedTime: String?
    var statusUpdatedTime: String?
    var lastActivityTime: String?
    var cloudToDeviceMessageCount: Int?
    var authentication: AuthenticationJSON?
    var capabilities: Capabilities?
    var deviceScope: String?
    var parentScopes: [String]?
}

struct ModuleJSON: Codable, Sendable {
    var moduleId: String?
    var managedBy: String?
    var deviceId: String?
    var generationId: String?
    var etag: String?
    var connectionState: String?
    var connectionStateUpdatedTime: String?
    var lastActivityTime: String?
    var cloudToDeviceMessageCount: Int?
    var authentication: AuthenticationJSON?
}

enum RegistryJSON {
    /// IoT Hub writes "never" as the year 1.
    static func time(_ date: Date?) -> String {
        guard let date else { return "0001-01-01T00:00:00Z" }
        return date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    static func authentication(_ r: IdentityRecord) -> AuthenticationJSON {
        AuthenticationJSON(symmetricKey: .init(primaryKey: r.primaryKey, secondaryKey: r.secondaryKey),
                           x509Thumbprint: .init(primaryThumbprint: r.primaryThumbprint, secondaryThumbprint: r.secondaryThumbprint),
                           type: r.authType)
    }

    static func device(_ r: IdentityRecord) -> DeviceJSON {
        DeviceJSON(deviceId: r.deviceId, generationId: r.generationId, etag: r.etag, connectionState: r.connectionState,
                   status: r.status, statusReason: r.statusReason,
                   connectionStateUpdatedTime: time(r.connectionStateUpdatedTime),
                   statusUpdatedTime: time(r.statusUpdatedTime), lastActivityTime: time(r.lastActivityTime),
                   cloudToDeviceMessageCount: r.cloudToDeviceMessageCount, authentication: authentication(r),
                   capabilities: .init(iotEdge: r.iotEdge), deviceScope: nil, parentScopes: [])
    }

    static func module(_ r: IdentityRecord) -> ModuleJSON {
        ModuleJSON(moduleId: r.moduleId, managedBy: r.managedBy, deviceId: r.deviceId, generationId: r.generationId,
                   etag: r.etag, connectionState: r.connectionState,
                   connectionStateUpdatedTime: time(r.connectionStateUpdatedTime),
                   lastActivityTime: time(r.lastActivityTime),
                   cloudToDeviceMessageCount: r.cloudToDeviceMessageCount, authentication: authentication(r))
    }
}
