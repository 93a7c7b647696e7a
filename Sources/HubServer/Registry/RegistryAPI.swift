import Foundation
import HubStore
import IoTProtocol
import NIOHTTP1

/// Device and module identities over REST, with IoT Hub's semantics: PUT creates (409 when the
/// identity exists and no `If-Match` was sent) or, with `If-Match`, replaces; a stale ETag is
/// 412; keys are generated when absent; every change gets a new ETag.
struct RegistryAPI: Sendable {
    let store: SQLiteHubStore

    func getDevice(_ id: String) async throws -> HTTPResponse {
        guard let r = try await store.identity(deviceID: id) else { throw HubError.notFound(id, nil) }
        return .encodable(RegistryJSON.device(r), headers: etagHeader(r))
    }

    func listDevices(top: Int?) async throws -> HTTPResponse {
        .encodable(try await store.devices(limit: top).map(RegistryJSON.device))
    }

    func getModule(_ id: String, _ module: String) async throws -> HTTPResponse {
        guard let r = try await store.identity(deviceID: id, moduleID: module) else { throw HubError.notFound(id, module) }
        return .encodable(RegistryJSON.module(r), headers: etagHeader(r))
    }

    func listModules(_ id: String) async throws -> HTTPResponse {
        guard try await store.identity(deviceID: id) != nil else { throw HubError.notFound(id, nil) }
        return .encodable(try await store.modules(deviceID: id).map(RegistryJSON.module))
    }

    func putDevice(_ id: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        try validate(id, what: "device id")
        let body = try decode(DeviceJSON.self, request)
        if let bodyID = body.deviceId, bodyID != id {
            throw HubError.argumentInvalid("deviceId \"\(bodyID)\" in the body differs from \"\(id)\" in the path")
        }
        let auth = try Credentials(body.authentication)
        let status = try Self.status(body.status)
        let record: IdentityRecord
        if let ifMatch = request.ifMatch {
            record = try await update(id, nil, ifMatch: ifMatch) { r in
                var r = r
                if let status, status != r.status { r.status = status; r.statusUpdatedTime = Date() }
                r.statusReason = body.statusReason ?? r.statusReason
                if let iotEdge = body.capabilities?.iotEdge { r.iotEdge = iotEdge }
                auth.apply(to: &r)
                return r
            }
        } else {
            var r = IdentityRecord(deviceId: id, generationId: Self.newGenerationID(), etag: Self.newETag(),
                                   status: status ?? "enabled", statusReason: body.statusReason,
                                   statusUpdatedTime: Date(), iotEdge: body.capabilities?.iotEdge ?? false, createdTime: Date())
            auth.applyNew(to: &r)
            do { try await store.create(r) } catch StoreError.alreadyExists {
                throw HubError(.deviceAlreadyExists, "A device with ID '\(id)' is already registered.")
            }
            record = r
        }
        // azure-iot-hub accepts only 200 for a device PUT, even when it created the device.
        return .encodable(RegistryJSON.device(record), headers: etagHeader(record))
    }

    func putModule(_ id: String, _ module: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        try validate(id, what: "device id")
        try validate(module, what: "module id")
        let body = try decode(ModuleJSON.self, request)
        if let bodyID = body.moduleId, bodyID != module {
            throw HubError.argumentInvalid("moduleId \"\(bodyID)\" in the body differs from \"\(module)\" in the path")
        }
        let auth = try Credentials(body.authentication)
        if let ifMatch = request.ifMatch {
            let r = try await update(id, module, ifMatch: ifMatch) { r in
                var r = r
                if let managedBy = body.managedBy { r.managedBy = managedBy }
                auth.apply(to: &r)
                return r
            }
            return .encodable(RegistryJSON.module(r), headers: etagHeader(r))
        }
        var r = IdentityRecord(deviceId: id, moduleId: module, generationId: Self.newGenerationID(), etag: Self.newETag(),
                               managedBy: body.managedBy, createdTime: Date())
        auth.applyNew(to: &r)
        do { try await store.create(r) } catch StoreError.alreadyExists {
            throw HubError(.moduleAlreadyExistsOnDevice, "A module with ID '\(module)' is already registered on device '\(id)'.")
        } catch StoreError.notFound {
            throw HubError.notFound(id, nil)
        }
        return .encodable(RegistryJSON.module(r), status: .created, headers: etagHeader(r))
    }

    func delete(_ id: String, _ module: String?, ifMatch: String?) async throws -> HTTPResponse {
        do { try await store.delete(deviceID: id, moduleID: module, ifMatch: ifMatch) } catch StoreError.notFound {
            throw HubError.notFound(id, module)
        } catch StoreError.preconditionFailed(let current) {
            throw stale(ifMatch ?? "", current)
        }
        return HTTPResponse(status: .noContent)
    }

    func deviceStatistics() async throws -> HTTPResponse {
        let s = try await store.registryStatistics()
        return .json(["totalDeviceCount": s.total, "enabledDeviceCount": s.enabled, "disabledDeviceCount": s.disabled])
    }

    func serviceStatistics(connected: Int) async throws -> HTTPResponse {
        .json(["connectedDeviceCount": connected])
    }

    // MARK: helpers

    private func update(_ id: String, _ module: String?, ifMatch: String,
                        _ change: @escaping @Sendable (IdentityRecord) throws -> IdentityRecord) async throws -> IdentityRecord {
        do {
            return try await store.update(deviceID: id, moduleID: module, ifMatch: ifMatch) { current in
                var next = try change(current)
                next.etag = Self.newETag()
                return next
            }
        } catch StoreError.notFound {
            throw HubError.notFound(id, module)
        } catch StoreError.preconditionFailed(let current) {
            throw stale(ifMatch, current)
        }
    }

    private func stale(_ sent: String, _ current: String) -> HubError {
        HubError(.preconditionFailed, "Precondition failed: the ETag \"\(sent)\" is not the current one (\"\(current)\"); read the identity again and retry.")
    }

    private func validate(_ id: String, what: String) throws {
        guard IdentityID.isValid(id) else {
            throw HubError.argumentInvalid("The \(what) \"\(id)\" is invalid: use \(IdentityID.validityRule).")
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ request: HTTPRequest) throws -> T {
        if request.body.readableBytes == 0 { return try JSONDecoder().decode(T.self, from: Data("{}".utf8)) }
        do { return try JSONDecoder().decode(T.self, from: request.bodyData) } catch {
            throw HubError.argumentInvalid("The request body is not valid JSON for this identity: \(Self.describe(error))")
        }
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "\(c.codingPath.map(\.stringValue).joined(separator: ".")): \(c.debugDescription)"
        case DecodingError.dataCorrupted(let c):
            return c.debugDescription
        default:
            return "\(error)"
        }
    }

    private static func status(_ s: String?) throws -> String? {
        guard let s else { return nil }
        switch s.lowercased() {
        case "enabled": return "enabled"
        case "disabled": return "disabled"
        default: throw HubError.argumentInvalid("status \"\(s)\" is invalid: use \"enabled\" or \"disabled\".")
        }
    }

    static func newETag() -> String {
        Data(String(UInt32.random(in: 1...UInt32.max)).utf8).base64EncodedString()
    }

    static func newGenerationID() -> String {
        String(UInt64(Date().timeIntervalSince1970 * 10_000_000) + UInt64.random(in: 0..<10_000))
    }

    private func etagHeader(_ r: IdentityRecord) -> HTTPHeaders { ["ETag": "\"\(r.etag)\""] }
}

/// The credentials part of a device or module body, validated.
private struct Credentials {
    var type: String?
    var primaryKey: String?
    var secondaryKey: String?
    var primaryThumbprint: String?
    var secondaryThumbprint: String?

    init(_ json: AuthenticationJSON?) throws {
        type = json?.type.map { $0 }
        primaryKey = json?.symmetricKey?.primaryKey.flatMap { $0.isEmpty ? nil : $0 }
        secondaryKey = json?.symmetricKey?.secondaryKey.flatMap { $0.isEmpty ? nil : $0 }
        primaryThumbprint = json?.x509Thumbprint?.primaryThumbprint
        secondaryThumbprint = json?.x509Thumbprint?.secondaryThumbprint
        if let type, !["sas", "selfSigned", "certificateAuthority", "none"].contains(type) {
            throw HubError.argumentInvalid("authentication.type \"\(type)\" is invalid: use sas, selfSigned, certificateAuthority or none.")
        }
        for (name, key) in [("primaryKey", primaryKey), ("secondaryKey", secondaryKey)] {
            if let key, !SymmetricKeyGenerator.isValid(key) {
                throw HubError.argumentInvalid("authentication.symmetricKey.\(name) must be base64 of 16 to 64 bytes.")
            }
        }
        if type == "selfSigned" && primaryThumbprint == nil {
            throw HubError.argumentInvalid("authentication of type selfSigned needs x509Thumbprint.primaryThumbprint.")
        }
    }

    func applyNew(to r: inout IdentityRecord) {
        r.authType = type ?? "sas"
        if r.authType == "sas" {
            r.primaryKey = primaryKey ?? SymmetricKeyGenerator.make()
            r.secondaryKey = secondaryKey ?? SymmetricKeyGenerator.make()
        }
        r.primaryThumbprint = primaryThumbprint
        r.secondaryThumbprint = secondaryThumbprint
    }

    func apply(to r: inout IdentityRecord) {
        if let type { r.authType = type }
        if let primaryKey { r.primaryKey = primaryKey }
        if let secondaryKey { r.secondaryKey = secondaryKey }
        if r.authType == "sas" {
            if r.primaryKey == nil { r.primaryKey = SymmetricKeyGenerator.make() }
            if r.secondaryKey == nil { r.secondaryKey = SymmetricKeyGenerator.make() }
        }
        if let primaryThumbprint { r.primaryThumbprint = primaryThumbprint }
        if let secondaryThumbprint { r.secondaryThumbprint = secondaryThumbprint }
    }
}
