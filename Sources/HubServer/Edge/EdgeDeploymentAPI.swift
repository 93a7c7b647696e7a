import Foundation
import HubStore
import IoTProtocol
import Twin

/// `POST /devices/{d}/applyConfigurationContent` (what `az iot edge set-modules` calls): checks
/// the manifest, creates the module identities it names, and replaces each module twin's
/// desired properties. `$edgeAgent` goes last, so that the agent never sees a deployment whose
/// modules' twins are not ready.
struct EdgeDeploymentAPI: Sendable {
    let hub: Hub

    func apply(_ device: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        guard let identity = try await hub.store.identity(deviceID: device) else { throw HubError.notFound(device, nil) }
        guard identity.iotEdge else {
            throw HubError.argumentInvalid("Device '\(device)' is not an edge device: create it with iothub edge create, or set capabilities.iotEdge.")
        }
        let manifest = try DeploymentManifest(TwinAPI.parseBody(request))
        let order = manifest.modules.keys.filter { $0 != "$edgeAgent" }.sorted() + ["$edgeAgent"]
        for module in order {
            try await ensureModule(device, module)
        }
        let connections = hub.connections
        let now = Date()
        for module in order {
            let desired = manifest.modules[module] ?? [:]
            let clientID = IdentityID(deviceID: device, moduleID: module).clientID
            do {
                _ = try await hub.store.updateTwin(deviceID: device, moduleID: module, ifMatch: "*") { (twin: inout TwinState) -> JSONValue in
                    try twin.replaceDesired(desired, at: now)
                } afterCommit: { (_, push: JSONValue) in
                    connections.push(.desiredPatch(push), to: clientID)
                }
            } catch let violation as TwinRules.Violation {
                throw HubError.argumentInvalid("modulesContent.\(module): \(violation).")
            }
        }
        hub.logger.info("deployment applied", metadata: ["device": "\(device)", "modules": "\(manifest.userModules.joined(separator: ","))"])
        return .jsonValue(.object(["deviceId": .string(device), "modules": .array(order.map(JSONValue.string))]))
    }

    private func ensureModule(_ device: String, _ module: String) async throws {
        guard try await hub.store.identity(deviceID: device, moduleID: module) == nil else { return }
        var record = IdentityRecord(deviceId: device, moduleId: module, generationId: RegistryAPI.newGenerationID(),
                                    etag: RegistryAPI.newETag(), managedBy: "iotEdge", createdTime: Date())
        record.primaryKey = SymmetricKeyGenerator.make()
        record.secondaryKey = SymmetricKeyGenerator.make()
        do { try await hub.store.create(record) } catch StoreError.alreadyExists {}
    }
}
