import Foundation
import IoTProtocol

/// Checks the `Authorization: SharedAccessSignature …&skn={policy}` header of a service request.
struct ServiceAuthorizer: Sendable {
    let hub: Hub

    func authorize(_ request: HTTPRequest, now: Date = Date()) throws {
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
