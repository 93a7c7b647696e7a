import Foundation
import HubStore
import IoTProtocol
import MQTT

/// Checks a CONNECT's SAS token: well-formed, not expired, made for this identity on this hub,
/// signed with the identity's key (or a policy key), and the identity exists and is enabled.
public struct Authenticator: Sendable {
    public struct Failure: Error, Sendable {
        public var returnCode: ConnAck.ReturnCode
        public var reason: String
    }

    let hub: Hub

    public func authenticate(_ connect: Connect, identity: IdentityID, username: MQTTUsername,
                             now: Date = Date()) async throws -> IdentityRecord {
        guard let password = connect.password, let text = String(validating: password, as: UTF8.self) else {
            throw Failure(returnCode: .notAuthorized, reason: "no SAS token in the password")
        }
        let token: SASToken
        do { token = try SASToken(parsing: text) } catch {
            throw Failure(returnCode: .notAuthorized, reason: error.description)
        }
        let nowSeconds = Int64(now.timeIntervalSince1970)
        if token.isExpired(now: nowSeconds) {
            throw Failure(returnCode: .notAuthorized,
                          reason: "SAS token expired \(nowSeconds - token.expiry) s ago (se=\(token.expiry))")
        }
        let resource = token.resource.lowercased()
        let expected = hub.config.acceptedHostNames.map { identity.resource(host: $0).lowercased() }
        guard expected.contains(resource) else {
            throw Failure(returnCode: .notAuthorized,
                          reason: "SAS token is for \"\(token.resource)\", not \"\(identity.resource(host: hub.config.host))\"")
        }
        if !hub.config.acceptedHostNames.contains(username.hostName.lowercased()) {
            throw Failure(returnCode: .notAuthorized, reason: "user name names hub \"\(username.hostName)\", this hub is \"\(hub.config.host)\"")
        }
        guard let record = try await hub.store.identity(deviceID: identity.deviceID, moduleID: identity.moduleID) else {
            let what = identity.moduleID == nil ? "device \"\(identity.deviceID)\"" : "module \"\(identity)\""
            throw Failure(returnCode: .notAuthorized, reason: "unknown \(what): create it first (iothub device create)")
        }
        if identity.moduleID == nil ? !record.isEnabled : false {
            throw Failure(returnCode: .notAuthorized, reason: "device \"\(identity.deviceID)\" is disabled")
        }
        if identity.moduleID != nil,
           let device = try await hub.store.identity(deviceID: identity.deviceID), !device.isEnabled {
            throw Failure(returnCode: .notAuthorized, reason: "device \"\(identity.deviceID)\" is disabled")
        }
        let signedByIdentity = [record.primaryKey, record.secondaryKey].compactMap { $0 }.contains { token.isSigned(withBase64Key: $0) }
        let signedByPolicy = token.keyName.flatMap(hub.policies.key(named:)).map { token.isSigned(withBase64Key: $0) } ?? false
        guard signedByIdentity || signedByPolicy else {
            throw Failure(returnCode: .notAuthorized,
                          reason: "SAS token signature does not match the \(identity.moduleID == nil ? "device" : "module")'s keys")
        }
        return record
    }
}
