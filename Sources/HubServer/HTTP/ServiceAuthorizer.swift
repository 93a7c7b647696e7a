import Foundation
import IoTProtocol

/// Checks the `Authorization: SharedAccessSignature …` header of a REST request: a policy token
/// (`skn=`) may call everything; a device's own token (`sr={host}/devices/{d}`, signed with the
/// device's key) may manage that device's module identities, as an edge daemon does, and use
/// file upload.
struct ServiceAuthorizer: Sendable {
    let hub: Hub

    enum Scope: Equatable {
        case service
        case device(String)
    }

    func authorize(_ request: HTTPRequest, now: Date = Date()) async throws -> Scope {
        if let header = request.headers.first(name: "Authorization"), let token = try? SASToken(parsing: header), token.keyName == nil {
            return try await authorizeDevice(token, request, now: now)
        }
        try authorizeService(request, now: now)
        return .service
    }

    /// A device token (or the token of the device's `$edgeHub` or `$edgeAgent` module, which read
    /// the identities of the modules they serve): valid, and used only on
    /// `/devices/{itself}/modules[/{m}]`; the system modules may only read.
    private func authorizeDevice(_ token: SASToken, _ request: HTTPRequest, now: Date) async throws -> Scope {
        let parts = token.resource.split(separator: "/", omittingEmptySubsequences: true).map { PercentEncoding.decode($0) ?? String($0) }
        let isDevice = parts.count == 3
        let isSystemModule = parts.count == 5 && parts[3] == "modules" && ["$edgeHub", "$edgeAgent"].contains(parts[4])
        guard isDevice || isSystemModule, parts[1] == "devices", hub.config.acceptedHostNames.contains(parts[0].lowercased()) else {
            throw HubError(.iotHubUnauthorized, "The SAS token names no policy (skn=) and is not a device token for this hub (sr={host}/devices/{id}); service calls need a shared access policy.")
        }
        let deviceID = parts[2]
        let moduleID = isSystemModule ? parts[4] : nil
        if token.isExpired(now: Int64(now.timeIntervalSince1970)) {
            throw HubError(.iotHubUnauthorized, "The SAS token expired at \(token.expiry) (unix seconds).")
        }
        guard let device = try await hub.store.identity(deviceID: deviceID), device.isEnabled,
              let signer = moduleID == nil ? device : try await hub.store.identity(deviceID: deviceID, moduleID: moduleID),
              [signer.primaryKey, signer.secondaryKey].compactMap({ $0 }).contains(where: { token.isSigned(withBase64Key: $0) }) else {
            throw HubError(.iotHubUnauthorized, "The token for \"\(token.resource)\" is not signed with that identity's key, or the device is unknown or disabled.")
        }
        let s = request.segments
        let ownModules = s.count >= 3 && s.count <= 4 && s[2] == "modules" && (moduleID == nil || request.method == .GET)
        // File upload (`/devices/{d}/files[/notifications]`) is the device's own, not its modules'.
        let ownFiles = s.count >= 3 && s.count <= 4 && s[2] == "files" && moduleID == nil
        guard s.count >= 3, s[0] == "devices", s[1] == deviceID, ownModules || ownFiles else {
            throw HubError(.iotHubUnauthorized, "This token may only \(moduleID == nil ? "manage" : "read") the device's own module identities (/devices/\(deviceID)/modules)\(moduleID == nil ? " and upload its files (/devices/\(deviceID)/files)" : ""); use a policy token for \(request.method.rawValue) \(request.path).")
        }
        return .device(deviceID)
    }

    private func authorizeService(_ request: HTTPRequest, now: Date) throws {
        guard let header = request.headers.first(name: "Authorization") else {
            throw HubError(.iotHubUnauthorized, "No Authorization header: send a SharedAccessSignature made with a policy key (iothub connection-string).")
        }
        let token: SASToken
        do { token = try SASToken(parsing: header) } catch {
            throw HubError(.iotHubUnauthorized, "The Authorization header is not a valid SAS token: \(error.description).")
        }
        guard let name = token.keyName else {
            throw HubError(.iotHubUnauthorized, "The SAS token names no policy (skn=); service calls need a shared access policy.")
        }
        guard let key = hub.policies.key(named: name) else {
            throw HubError(.iotHubUnauthorized, "Unknown shared access policy \"\(name)\".")
        }
        if token.isExpired(now: Int64(now.timeIntervalSince1970)) {
            throw HubError(.iotHubUnauthorized, "The SAS token expired at \(token.expiry) (unix seconds).")
        }
        let resource = token.resource.lowercased()
        let hostOK = hub.config.acceptedHostNames.contains { host in
            resource == host || resource.hasPrefix(host + "/")
        }
        guard hostOK else {
            throw HubError(.iotHubUnauthorized, "The SAS token is for \"\(token.resource)\", not this hub (\(hub.config.host)).")
        }
        guard token.isSigned(withBase64Key: key) else {
            throw HubError(.iotHubUnauthorized, "The SAS token's signature does not match policy \"\(name)\"'s key.")
        }
    }
}
