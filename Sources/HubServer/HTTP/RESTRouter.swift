import Foundation
import NIOHTTP1

/// Routes REST requests after checking the service token. Paths follow IoT Hub's REST API;
/// Outpost's own endpoints live under `/$outpost/`.
struct RESTRouter: Sendable {
    let hub: Hub
    let registry: RegistryAPI
    let events: EventsAPI
    let twins: TwinAPI
    let methods: MethodAPI
    let cloudToDevice: CloudToDeviceAPI
    let query: QueryAPI
    let diagnostics: DiagnosticsAPI
    let diagnosis: DiagnosisAPI
    let metrics: MetricsAPI
    let alerts: AlertsAPI
    let logs: LogsAPI
    let deployments: EdgeDeploymentAPI
    let storage: StorageAPI
    let fileUpload: FileUploadAPI
    let files: FilesAPI

    init(hub: Hub) {
        self.hub = hub
        self.registry = RegistryAPI(store: hub.store)
        self.events = EventsAPI(hub: hub)
        self.twins = TwinAPI(hub: hub)
        self.methods = MethodAPI(hub: hub)
        self.cloudToDevice = CloudToDeviceAPI(hub: hub)
        self.query = QueryAPI(hub: hub)
        self.diagnostics = DiagnosticsAPI(hub: hub)
        self.diagnosis = DiagnosisAPI(hub: hub)
        self.metrics = MetricsAPI(hub: hub)
        self.alerts = AlertsAPI(hub: hub)
        self.logs = LogsAPI(hub: hub)
        self.deployments = EdgeDeploymentAPI(hub: hub)
        self.storage = StorageAPI(hub: hub)
        self.fileUpload = FileUploadAPI(hub: hub)
        self.files = FilesAPI(hub: hub)
    }

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        // Blob URLs carry their own authorisation, a storage SAS in the query.
        if request.segments.first == BlobStore.accountName { return await storage.handle(request) }
        do {
            let scope = try await ServiceAuthorizer(hub: hub).authorize(request)
            if case .device(let device) = scope, request.segments.count >= 3, request.segments[2] == "files" {
                return try await fileUploadRoute(request, device)
            }
            return try await route(request)
        } catch let error as HubError {
            // A device that does not answer a method (504101) is the device's problem, not the hub's.
            if error.code.httpStatus >= 500 && error.code != .gatewayTimeout {
                hub.logger.error("request failed", metadata: ["path": "\(request.path)", "error": "\(error)"])
            }
            return error.response
        } catch {
            hub.logger.error("request failed", metadata: ["path": "\(request.path)", "error": "\(error)"])
            return HubError(.serverError, "Internal error: \(error)").response
        }
    }

    private func route(_ r: HTTPRequest) async throws -> HTTPResponse {
        let s = r.segments
        switch (r.method, s.count, s.first) {
        case (.POST, 2, "devices") where s[1] == "query":
            return try await query.run(r)
        case (_, 2, "twins"), (_, 4, "twins") where s[2] == "modules":
            let module = s.count == 4 ? s[3] : nil
            switch r.method {
            case .GET: return try await twins.get(s[1], module)
            case .PATCH: return try await twins.update(s[1], module, r, replace: false)
            case .PUT: return try await twins.update(s[1], module, r, replace: true)
            default: throw methodNotAllowed(r)
            }
        case (.POST, 3, "twins") where s[2] == "methods":
            return try await methods.invoke(s[1], nil, r)
        case (.POST, 5, "twins") where s[2] == "modules" && s[4] == "methods":
            return try await methods.invoke(s[1], s[3], r)
        case (_, 5, "$outpost") where s[1] == "devices" && s[3] == "messages" && s[4] == "devicebound":
            switch r.method {
            case .POST: return try await cloudToDevice.send(s[2], r)
            case .GET: return try await cloudToDevice.list(s[2])
            case .DELETE: return try await cloudToDevice.purge(s[2])
            default: throw methodNotAllowed(r)
            }
        case (_, _, "$outpost") where s.count >= 2 && s[1] == "files":
            return try filesRoute(r, Array(s.dropFirst()))
        case (.POST, 3...4, "devices") where s[2] == "files":
            throw HubError(.iotHubUnauthorized, "File upload is a device operation: call it with the device's own SAS token (sr={host}/devices/\(s[1])).")
        case (_, _, "$outpost") where s.count >= 2 && ["diagnostics", "metrics", "alerts", "logs"].contains(s[1]):
            return try await monitoring(r, Array(s.dropFirst()))
        case (.GET, 4, "$outpost") where s[1] == "devices" && s[3] == "diagnosis":
            return try await diagnosis.diagnose(s[2], r)
        case (.GET, 1, "devices"):
            return try await registry.listDevices(top: r.query["top"].flatMap(Int.init))
        case (_, 2, "devices"):
            switch r.method {
            case .GET: return try await registry.getDevice(s[1])
            case .PUT: return try await registry.putDevice(s[1], r)
            case .DELETE: return try await registry.delete(s[1], nil, ifMatch: r.ifMatch)
            default: throw methodNotAllowed(r)
            }
        case (.POST, 3, "devices") where s[2] == "applyConfigurationContent":
            return try await deployments.apply(s[1], r)
        case (.GET, 3, "devices") where s[2] == "modules":
            return try await registry.listModules(s[1])
        case (_, 4, "devices") where s[2] == "modules":
            switch r.method {
            case .GET: return try await registry.getModule(s[1], s[3])
            case .PUT: return try await registry.putModule(s[1], s[3], r)
            case .DELETE: return try await registry.delete(s[1], s[3], ifMatch: r.ifMatch)
            default: throw methodNotAllowed(r)
            }
        case (.GET, 2, "statistics") where s[1] == "devices":
            return try await registry.deviceStatistics()
        case (.GET, 2, "statistics") where s[1] == "service":
            return try await registry.serviceStatistics(connected: hub.connections.count)
        case (.GET, 2, "$outpost") where s[1] == "events":
            return try await events.stream(r)
        case (.GET, 3, "$outpost") where s[1] == "events" && s[2] == "stats":
            return try await events.stats()
        case (.GET, 3, "$outpost") where s[1] == "consumergroups":
            return try await events.consumerGroup(s[2])
        case (.PUT, 3, "$outpost") where s[1] == "consumergroups":
            return try await events.checkpoint(s[2], r)
        default:
            throw HubError.argumentInvalid("No such resource: \(r.method.rawValue) \(r.path).")
        }
    }

    /// A device's file upload calls; the authorizer has checked that the device is the caller.
    private func fileUploadRoute(_ r: HTTPRequest, _ device: String) async throws -> HTTPResponse {
        switch (r.method, r.segments.count) {
        case (.POST, 3): return try await fileUpload.storageInfo(device, r)
        case (.POST, 4) where r.segments[3] == "notifications": return try await fileUpload.notify(device, r)
        default: throw HubError.argumentInvalid("No such resource: \(r.method.rawValue) \(r.path); file upload takes POST /devices/{id}/files and POST /devices/{id}/files/notifications.")
        }
    }

    /// `iothub files`: blobs, SAS URLs and upload notifications.
    private func filesRoute(_ r: HTTPRequest, _ s: [String]) throws -> HTTPResponse {
        switch (r.method, s.count) {
        case (.GET, 1): return try files.list(r)
        case (.GET, 2) where s[1] == "notifications": return files.notifications()
        case (.POST, 2) where s[1] == "sas": return try files.sas(r)
        case (.GET, 3...): return try files.download(s[1], Array(s[2...]), r)
        default: throw HubError.argumentInvalid("No such resource: \(r.method.rawValue) \(r.path).")
        }
    }

    /// Outpost's monitoring endpoints: diagnostic settings and records, metrics, alerts.
    private func monitoring(_ r: HTTPRequest, _ s: [String]) async throws -> HTTPResponse {
        switch (r.method, s.count, s[0]) {
        case (.GET, 2, "diagnostics") where s[1] == "settings": return diagnostics.settings()
        case (.PUT, 3, "diagnostics") where s[1] == "settings": return try await diagnostics.updateSetting(s[2], r)
        case (.GET, 2, "diagnostics") where s[1] == "records": return try await diagnostics.records(r)
        case (.POST, 2, "logs") where s[1] == "query": return try await logs.query(r)
        case (.GET, 1, "metrics"): return metrics.list()
        case (.GET, 2, "metrics"): return try await metrics.show(s[1], r)
        case (.GET, 1, "alerts"): return try await alerts.list()
        case (.GET, 2, "alerts"): return try await alerts.get(s[1])
        case (.PUT, 2, "alerts"): return try await alerts.put(s[1], r)
        case (.DELETE, 2, "alerts"): return try await alerts.delete(s[1])
        case (.GET, 3, "alerts") where s[2] == "history": return try await alerts.history(s[1])
        default: throw HubError.argumentInvalid("No such resource: \(r.method.rawValue) \(r.path).")
        }
    }

    private func methodNotAllowed(_ r: HTTPRequest) -> HubError {
        HubError.argumentInvalid("\(r.method.rawValue) is not supported on \(r.path).")
    }
}
