import Foundation
import HubStore
import IoTProtocol
import NIOCore
import NIOHTTP1
import Twin

/// Twins over REST, as azure-iot-hub uses them: GET, PATCH (merge) and PUT (replace) on
/// `/twins/{d}` and `/twins/{d}/modules/{m}`, with `If-Match`. Desired changes are pushed to
/// the connected client in version order.
struct TwinAPI: Sendable {
    let hub: Hub

    func get(_ device: String, _ module: String?) async throws -> HTTPResponse {
        guard let row = try await hub.store.twin(deviceID: device, moduleID: module) else {
            throw HubError.notFound(device, module)
        }
        hub.metrics.increment(.serviceTwinReadSuccess)
        return response(row)
    }

    /// PATCH merges tags and desired properties; PUT replaces both. Reported properties belong to
    /// the device and are refused here.
    func update(_ device: String, _ module: String?, _ request: HTTPRequest, replace: Bool) async throws -> HTTPResponse {
        do {
            let response = try await apply(device, module, request, replace: replace)
            hub.metrics.increment(.serviceTwinUpdateSuccess)
            return response
        } catch {
            hub.metrics.increment(.serviceTwinUpdateFailure)
            throw error
        }
    }

    private func apply(_ device: String, _ module: String?, _ request: HTTPRequest, replace: Bool) async throws -> HTTPResponse {
        let body = try Self.parseBody(request)
        let tags = try Self.object(body["tags"], "tags")
        let properties = try Self.object(body["properties"], "properties")
        let desired = try Self.object(properties?["desired"], "properties.desired")
        if properties?["reported"] != nil {
            throw HubError.argumentInvalid("properties.reported cannot be written by the service: reported properties come from the device.")
        }
        let identity = IdentityID(deviceID: device, moduleID: module)
        let connections = hub.connections
        let now = Date()
        do {
            let (row, _) = try await hub.store.updateTwin(deviceID: device, moduleID: module, ifMatch: request.ifMatch) { (twin: inout TwinState) -> JSONValue? in
                if replace {
                    try twin.replaceTags(tags ?? [:])
                    return try twin.replaceDesired(desired ?? [:], at: now)
                }
                if let tags { try twin.patchTags(tags) }
                return try desired.flatMap { try twin.patchDesired($0, at: now) }
            } afterCommit: { (_, notification: JSONValue?) in
                if let notification { connections.push(.desiredPatch(notification), to: identity.clientID) }
            }
            return response(row)
        } catch StoreError.notFound {
            throw HubError.notFound(device, module)
        } catch StoreError.preconditionFailed(let current) {
            throw HubError(.preconditionFailed, "Precondition failed: the twin's ETag is \"\(current)\", not \"\(request.ifMatch ?? "")\"; read the twin again and retry.")
        } catch let violation as TwinRules.Violation {
            throw HubError.argumentInvalid("The twin update was refused: \(violation).")
        }
    }

    private func response(_ row: SQLiteHubStore.TwinRow) -> HTTPResponse {
        HTTPResponse.jsonValue(TwinDocument.json(row), headers: ["ETag": "\"\(row.twin.etag)\""])
    }

    static func parseBody(_ request: HTTPRequest) throws -> [String: JSONValue] {
        let value: JSONValue
        do { value = try JSONValue(parsing: request.bodyData) } catch {
            throw HubError.argumentInvalid("The request body is \(error); send a twin JSON object.")
        }
        guard case .object(let body) = value else {
            throw HubError.argumentInvalid("The request body must be a JSON object (a twin with tags and properties.desired).")
        }
        return body
    }

    static func object(_ value: JSONValue?, _ name: String) throws -> [String: JSONValue]? {
        switch value {
        case nil, .null?: return nil
        case .object(let o)?: return o
        default: throw HubError.argumentInvalid("\(name) must be a JSON object.")
        }
    }
}

extension HubError {
    static func notFound(_ device: String, _ module: String?) -> HubError {
        if let module { return HubError(.moduleNotFound, "Module '\(module)' on device '\(device)' not found.") }
        return HubError(.deviceNotFound, "Device '\(device)' not found.")
    }
}

extension HTTPResponse {
    static func jsonValue(_ value: JSONValue, status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:]) -> HTTPResponse {
        var h = headers
        h.replaceOrAdd(name: "Content-Type", value: "application/json; charset=utf-8")
        return HTTPResponse(status: status, headers: h, body: .bytes(ByteBuffer(string: value.jsonText)))
    }
}
