import AsyncHTTPClient
import EdgeModule
import Foundation
import HubStore
import Logging
import NIOCore
import NIOSSL
import Twin

/// Keeps the local broker's registry equal to the device's module identities on the hub, so
/// that modules authenticate to edgeHub with the same keys (and tokens) as to the hub, and
/// edgeHub can speak upstream for each of them.
struct IdentitySync: Sendable {
    let settings: EdgeHubSettings
    let store: SQLiteHubStore
    let workload: WorkloadClient
    let http: HTTPClient
    let logger: Logger

    /// One pass; returns the module ids now known.
    @discardableResult
    func sync() async throws -> [String] {
        let resource = "\(settings.hubHost)/devices/\(settings.deviceID)/modules/\(settings.moduleID)"
        var request = HTTPClientRequest(url: "https://\(settings.hubHost):\(settings.hubHTTPSPort)/devices/\(EdgeAPIClient.segment(settings.deviceID))/modules?api-version=2021-04-12")
        request.headers.add(name: "Authorization", value: try await workload.sasToken(resource: resource))
        let response = try await http.execute(request, timeout: .seconds(20))
        let body = String(buffer: try await response.body.collect(upTo: 8 << 20))
        guard response.status.code == 200, case .array(let modules) = try JSONValue(parsing: body) else {
            throw EdgeModuleError("reading the device's module identities from the hub answered \(response.status.code): \(body.prefix(200))")
        }
        if try await store.identity(deviceID: settings.deviceID) == nil {
            // The device itself never connects here; its row anchors the modules'.
            try? await store.create(IdentityRecord(deviceId: settings.deviceID, generationId: "edge", etag: "edge", authType: "none",
                                                   iotEdge: true, createdTime: Date()))
        }
        var ids: [String] = []
        for module in modules {
            guard let id = module["moduleId"]?.stringValue, let primary = module["authentication"]?["symmetricKey"]?["primaryKey"]?.stringValue else { continue }
            let secondary = module["authentication"]?["symmetricKey"]?["secondaryKey"]?.stringValue
            let generation = module["generationId"]?.stringValue ?? ""
            ids.append(id)
            var record = IdentityRecord(deviceId: settings.deviceID, moduleId: id, generationId: generation, etag: "edge",
                                        primaryKey: primary, secondaryKey: secondary, managedBy: "iotEdge", createdTime: Date())
            if let existing = try await store.identity(deviceID: settings.deviceID, moduleID: id) {
                guard existing.primaryKey != primary || existing.secondaryKey != secondary || existing.generationId != generation else { continue }
                record.createdTime = existing.createdTime
                let updated = record
                try await store.update(deviceID: settings.deviceID, moduleID: id, ifMatch: nil) { _ in updated }
            } else {
                try await store.create(record)
            }
        }
        return ids
    }
}
