import Foundation
import HubStore
import Twin

/// `/$outpost/alerts[/{name}[/history]]`: metric alert rules and what they did.
struct AlertsAPI: Sendable {
    let hub: Hub

    func list() async throws -> HTTPResponse {
        .jsonValue(.array(try await hub.store.alerts().compactMap(Self.json)))
    }

    func get(_ name: String) async throws -> HTTPResponse {
        .jsonValue(try await find(name))
    }

    func put(_ name: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        guard Self.isValidName(name) else {
            throw HubError.argumentInvalid("Alert name \"\(name)\" is invalid: use 1 to 64 letters, digits, '-', '_' or '.'.")
        }
        let rule = try AlertRule(body: TwinAPI.parseBody(request))
        let definition = String(decoding: try JSONEncoder().encode(rule), as: UTF8.self)
        // A changed rule starts from Unknown: its old state described another condition.
        try await hub.store.saveAlert(name: name, definition: definition, state: AlertState.unknown.rawValue)
        hub.logger.info("alert rule saved", metadata: ["alert": "\(name)", "condition": "\(rule.condition)"])
        return .jsonValue(rule.json(name: name, state: AlertState.unknown.rawValue, updated: Date()))
    }

    func delete(_ name: String) async throws -> HTTPResponse {
        guard try await hub.store.deleteAlert(name: name) else { throw Self.notFound(name) }
        return HTTPResponse(status: .noContent)
    }

    func history(_ name: String) async throws -> HTTPResponse {
        _ = try await find(name)
        let entries = try await hub.store.alertHistory(name: name).compactMap { try? JSONValue(parsing: $0) }
        return .jsonValue(.array(entries))
    }

    private func find(_ name: String) async throws -> JSONValue {
        guard let row = try await hub.store.alerts().first(where: { $0.name == name }), let json = Self.json(row) else {
            throw Self.notFound(name)
        }
        return json
    }

    static func json(_ row: SQLiteHubStore.AlertRow) -> JSONValue? {
        guard let rule = try? JSONDecoder().decode(AlertRule.self, from: Data(row.definition.utf8)) else { return nil }
        return rule.json(name: row.name, state: row.state, updated: row.updatedTime)
    }

    static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    static func notFound(_ name: String) -> HubError {
        HubError(.notFound, "Alert '\(name)' not found: list them with iothub alerts list.")
    }
}
