import Foundation
import HubStore
import IoTClient
import IoTProtocol
import Logging
import NIOCore
import HubServer
import Twin

/// edgeHub's links to the hub, one per module it speaks for, each authenticated with that
/// module's own key, so that the hub sees each message from the module that sent it.
actor Upstream {
    private let settings: EdgeHubSettings
    private let store: SQLiteHubStore
    private let trustPEM: String
    private let logger: Logger
    private var clients: [String: IoTClient] = [:]
    private var methodsProxied: Set<String> = []
    private var twinsProxied: Set<String> = []

    init(settings: EdgeHubSettings, store: SQLiteHubStore, trustPEM: String, logger: Logger) {
        self.settings = settings
        self.store = store
        self.trustPEM = trustPEM
        self.logger = logger
    }

    func send(_ record: TelemetryRecord) async throws {
        let client = try await client(deviceID: record.deviceId, moduleID: record.moduleId)
        try await client.sendEvent(ByteBuffer(bytes: record.body), propertyBag: Self.bag(record))
    }

    /// Sends records of one identity in order, pipelined; returns how many, from the first, the
    /// hub acknowledged (the rest wait in the store for the next try).
    func send(run records: [TelemetryRecord]) async -> Int {
        guard let first = records.first else { return 0 }
        do {
            let client = try await client(deviceID: first.deviceId, moduleID: first.moduleId)
            let outcomes = try await client.sendEvents(records.map { (ByteBuffer(bytes: $0.body), Self.bag($0)) })
            return outcomes.firstIndex { $0 != nil } ?? outcomes.count
        } catch {
            return 0
        }
    }

    private func client(deviceID: String, moduleID: String?) async throws -> IoTClient {
        let id = IdentityID(deviceID: deviceID, moduleID: moduleID).clientID
        if let existing = clients[id] { return existing }
        guard let identity = try await store.identity(deviceID: deviceID, moduleID: moduleID), let key = identity.primaryKey else {
            throw SettingsError("no key for \(id): it is not one of this device's module identities")
        }
        var config = IoTClientConfiguration(hostName: settings.hubHost, deviceID: deviceID, moduleID: moduleID,
                                            credentials: .sharedAccessKey(key))
        config.trustedCAPEM = trustPEM
        config.productInfo = "outpost-edgeHub"
        let client = try IoTClient(configuration: config, logger: logger)
        try await client.connect()
        clients[id] = client
        logger.info("Upstream link for \(id) connected to \(settings.hubHost)")
        return client
    }

    /// Direct methods the hub sends to a module behind edgeHub go to its upstream link; this
    /// hands them to the module's local connection and returns its answer.
    func proxyMethods(for clientID: String, to local: Hub) async {
        guard !methodsProxied.contains(clientID), let identity = IdentityID(clientID: clientID) else { return }
        do {
            let client = try await client(deviceID: identity.deviceID, moduleID: identity.moduleID)
            try await client.onMethod { request in
                do {
                    let answer = try await local.methods.invoke(identity, method: request.name, payload: ByteBuffer(string: request.payload.jsonText),
                                                                responseTimeout: .seconds(60), connectTimeout: .seconds(5))
                    let data = Data(answer.payload.readableBytesView)
                    let payload = data.isEmpty ? JSONValue.null : ((try? JSONValue(parsing: data)) ?? .string(String(decoding: data, as: UTF8.self)))
                    return MethodResponse(status: answer.status, payload: payload)
                } catch {
                    return MethodResponse(status: 504, payload: ["message": .string("\(clientID) did not answer through edgeHub: \(error)")])
                }
            }
            methodsProxied.insert(clientID)
            logger.info("Direct methods for \(clientID) are proxied from IoT Hub")
        } catch {
            logger.warning("Cannot proxy direct methods for \(clientID) yet: \(error)")
        }
    }

    func twin(for identity: IdentityID) async throws -> JSONValue {
        try await client(deviceID: identity.deviceID, moduleID: identity.moduleID).getTwin()
    }

    func patchReported(for identity: IdentityID, _ patch: JSONValue) async throws -> Int {
        try await client(deviceID: identity.deviceID, moduleID: identity.moduleID).patchReported(patch)
    }

    /// Desired patches the hub sends for a module go on to its local connection.
    func proxyDesiredPatches(for clientID: String, to local: Hub) async {
        guard !twinsProxied.contains(clientID), let identity = IdentityID(clientID: clientID) else { return }
        do {
            let client = try await client(deviceID: identity.deviceID, moduleID: identity.moduleID)
            try await client.enableDesiredPatches()
            twinsProxied.insert(clientID)
            let patches = client.desiredPatches
            Task {
                for await patch in patches { local.connections.push(.desiredPatch(patch), to: clientID) }
            }
            logger.info("Desired property patches for \(clientID) are proxied from IoT Hub")
        } catch {
            logger.warning("Cannot proxy desired patches for \(clientID) yet: \(error)")
        }
    }

    func closeAll() async {
        for client in clients.values { await client.close() }
        clients.removeAll()
    }

    /// The stored message's properties as they go upstream: what the module set, not what the
    /// local broker added about the connection.
    static func bag(_ record: TelemetryRecord) -> PropertyBag {
        let system = (try? JSONDecoder().decode([String: String].self, from: Data(record.systemProperties.utf8))) ?? [:]
        let application = (try? JSONDecoder().decode([String: String].self, from: Data(record.properties.utf8))) ?? [:]
        let kept = system.filter { !$0.key.hasPrefix("iothub-connection") && $0.key != "iothub-message-source" }
        return PropertyBag(system: kept, application: application.sorted { $0.key < $1.key })
    }
}

/// Module twins live on the hub: edgeHub answers a module's twin requests over its upstream link.
struct UpstreamTwins: TwinProxy {
    let upstream: Upstream
    func twin(for identity: IdentityID) async throws -> JSONValue { try await upstream.twin(for: identity) }
    func patchReported(for identity: IdentityID, _ patch: JSONValue) async throws -> Int {
        try await upstream.patchReported(for: identity, patch)
    }
}
