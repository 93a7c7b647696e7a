import Foundation
import NIOHTTP1

/// Routes REST requests after checking the service token. Paths follow IoT Hub's REST API;
/// Outpost's own endpoints live under `/$outpost/`.
struct RESTRouter: Sendable {
    let hub: Hub
    let registry: RegistryAPI
    let events: EventsAPI

    init(hub: Hub) {
        self.hub = hub
        self.registry = RegistryAPI(store: hub.store)
        self.events = EventsAPI(hub: hub)
    }

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        do {
            try ServiceAuthorizer(hub: hub).authorize(request)
            return try await route(request)
        } catch let error as HubError {
            if error.code.httpStatus >= 500 { hub.logger.error("request failed", metadata: ["path": "\(request.path)", "error": "\(error)"]) }
            return error.response
        } catch {
            hub.logger.error("request failed", metadata: ["path": "\(request.path)", "error": "\(error)"])
            return HubError(.serverError, "Internal error: \(error)").response
        }
    }

    private func route(_ r: HTTPRequest) async throws -> HTTPResponse {
        let s = r.segments
        switch (r.method, s.count, s.first) {
        case (.GET, 1, "devices"):
            return try await registry.listDevices(top: r.query["top"].flatMap(Int.init))
        case (_, 2, "devices"):
            switch r.method {
            case .GET: return try await registry.getDevice(s[1])
            case .PUT: return try await registry.putDevice(s[1], r)
            case .DELETE: return try await registry.delete(s[1], nil, ifMatch: r.ifMatch)
            default: throw methodNotAllowed(r)
            }
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

    private func methodNotAllowed(_ r: HTTPRequest) -> HubError {
        HubError.argumentInvalid("\(r.method.rawValue) is not supported on \(r.path).")
    }
}
