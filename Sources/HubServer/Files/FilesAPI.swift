import Foundation
import NIOHTTP1
import IoTProtocol
import Twin

/// Outpost's own file endpoints for operators (service policy token), behind `iothub files`:
/// `GET /$outpost/files[?container=]` lists blobs, `GET /$outpost/files/{container}/{blob}`
/// downloads one, `POST /$outpost/files/sas` makes a SAS URL (the storage key never leaves the
/// hub), `GET /$outpost/files/notifications` lists the devices' upload notifications.
struct FilesAPI: Sendable {
    let hub: Hub

    /// The longest SAS the hub hands out: a support bundle upload needs minutes, not months.
    static let maxLifetime = 365 * 86_400

    func list(_ r: HTTPRequest) throws -> HTTPResponse {
        let container = r.query["container"]
        if let container, let problem = BlobName.containerProblem(container) { throw HubError.argumentInvalid(problem) }
        return .jsonValue(.array(hub.blobs.list(container: container).map { item in
            .object(["container": .string(item.container), "name": .string(item.name), "size": .number(Double(item.properties.size)),
                     "lastModified": .string(TwinTime.format(item.properties.lastModified)), "etag": .string(item.properties.etag)])
        }))
    }

    func download(_ container: String, _ blob: [String], _ r: HTTPRequest) throws -> HTTPResponse {
        let name = blob.joined(separator: "/")
        if let problem = BlobName.containerProblem(container) ?? BlobName.blobProblem(name) { throw HubError.argumentInvalid(problem) }
        guard hub.blobs.properties(container, name) != nil else {
            throw HubError(.argumentInvalid, "No blob \(container)/\(name); `iothub files list --container \(container)` shows what is there.")
        }
        do { return try StorageAPI(hub: hub).download(container, name, r) } catch {
            throw HubError(.serverError, error.message)
        }
    }

    func sas(_ r: HTTPRequest) throws -> HTTPResponse {
        let body = try FileUploadAPI.object(r)
        guard let container = body["container"]?.stringValue else {
            throw HubError.argumentInvalid("The body needs \"container\", e.g. {\"container\": \"bundles\", \"permissions\": \"rwl\", \"expirySeconds\": 3600}.")
        }
        if let problem = BlobName.containerProblem(container) { throw HubError.argumentInvalid(problem) }
        let blob = body["blob"]?.stringValue
        if let blob, let problem = BlobName.blobProblem(blob) { throw HubError.argumentInvalid(problem) }
        let permissions = body["permissions"]?.stringValue ?? "rwl"
        let allowed = blob == nil ? "racwdl" : "racwd"
        if permissions.isEmpty || permissions.contains(where: { !allowed.contains($0) }) {
            throw HubError.argumentInvalid("permissions \"\(permissions)\" is invalid: use letters of \(allowed) (r read, a add, c create, w write, d delete\(blob == nil ? ", l list" : "")).")
        }
        let seconds = body["expirySeconds"]?.numberValue.map { Int($0) } ?? 3600
        guard (1...Self.maxLifetime).contains(seconds) else {
            throw HubError.argumentInvalid("expirySeconds \(seconds) is out of range: 1 to \(Self.maxLifetime) (a year).")
        }
        // Azure wants the permissions in its own order.
        let ordered = String(StorageSAS.knownPermissions.filter { permissions.contains($0) })
        let expiry = Date().addingTimeInterval(TimeInterval(seconds))
        let sas = StorageSAS(resource: blob == nil ? .container : .blob, permissions: ordered, expiry: expiry)
        let query = sas.signedQuery(canonicalResource: StorageSAS.canonicalResource(account: BlobStore.accountName, container: container, blob: blob),
                                    base64Key: hub.blobs.key)
        let path = "https://\(FileUploadAPI.storageHostName(hub.config))/\(container)" + (blob.map { "/" + FileUploadAPI.encodePath($0) } ?? "")
        return .jsonValue(["url": .string("\(path)?\(query)"), "container": .string(container), "blob": blob.map(JSONValue.string) ?? .null,
                           "permissions": .string(ordered), "expiry": .string(sas.expiry), "sasToken": .string("?" + query)])
    }

    func notifications() -> HTTPResponse {
        .jsonValue(.array(hub.fileUploadNotifications.all()))
    }
}
