import Foundation
import HubStore
import IoTProtocol
import Twin

/// `/$outpost/diagnostics/settings[/{category}]` and `/$outpost/diagnostics/records`.
struct DiagnosticsAPI: Sendable {
    let hub: Hub

    func settings() -> HTTPResponse {
        .jsonValue(.array(hub.diagnostics.settings.map(Self.json)))
    }

    func updateSetting(_ name: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        guard let category = DiagnosticCategory.named(name) else {
            throw HubError.argumentInvalid("Unknown diagnostic category \"\(name)\": use one of \(DiagnosticCategory.names).")
        }
        let body = try TwinAPI.parseBody(request)
        var setting = hub.diagnostics.setting(category)
        if let value = body["enabled"] {
            guard case .bool(let enabled) = value else { throw HubError.argumentInvalid("enabled must be true or false.") }
            setting.enabled = enabled
        }
        if let value = body["retentionDays"] {
            let range = DiagnosticCategory.retentionRange
            guard let n = value.numberValue, n == n.rounded(), range.contains(Int(n)) else {
                throw HubError.argumentInvalid("retentionDays must be a whole number from \(range.lowerBound) to \(range.upperBound).")
            }
            setting.retentionDays = Int(n)
        }
        switch body["sink"] {
        case nil: break
        case .null?, .string("")?: setting.sink = nil
        case .string(let text)?: setting.sink = try DiagnosticSink(parsing: text)
        default: throw HubError.argumentInvalid("sink must be a string (file:/path or webhook:https://…) or null.")
        }
        try await hub.diagnostics.update(setting)
        hub.logger.info("diagnostic setting changed", metadata: [
            "category": "\(category.rawValue)", "enabled": "\(setting.enabled)", "retentionDays": "\(setting.retentionDays)",
            "sink": "\(setting.sink?.description ?? "none")",
        ])
        return .jsonValue(Self.json(setting))
    }

    func records(_ request: HTTPRequest) async throws -> HTTPResponse {
        var category: String?
        if let name = request.query["category"] {
            guard let c = DiagnosticCategory.named(name) else {
                throw HubError.argumentInvalid("Unknown diagnostic category \"\(name)\": use one of \(DiagnosticCategory.names).")
            }
            category = c.rawValue
        }
        let since = try request.query["since"].map { try Self.sinceMillis($0, parameter: "since") }
        var limit: Int?
        if let text = request.query["limit"] {
            guard let n = Int(text), n > 0 else { throw HubError.argumentInvalid("limit must be a positive whole number.") }
            limit = n
        }
        let rows = try await hub.store.diagnostics(category: category, since: since, deviceID: request.query["device"], limit: limit)
        return .jsonValue(.array(rows.map { ResourceLog.json($0, host: hub.config.host) }))
    }

    static func json(_ s: DiagnosticSetting) -> JSONValue {
        .object(["category": .string(s.category.rawValue), "enabled": .bool(s.enabled),
                 "retentionDays": .number(Double(s.retentionDays)), "sink": s.sink.map { .string($0.description) } ?? .null])
    }

    /// `1h`-style (that long ago) or an ISO 8601 time → Unix milliseconds.
    static func sinceMillis(_ text: String, parameter: String, now: Date = Date()) throws -> Int64 {
        if let seconds = DurationText.seconds(text) {
            return Int64((now.timeIntervalSince1970 - seconds) * 1000)
        }
        if let date = TwinTime.parse(text) {
            return Int64(date.timeIntervalSince1970 * 1000)
        }
        throw HubError.argumentInvalid("\(parameter) \"\(text)\" is neither a duration (90s, 5m, 1h, 2d) nor an ISO 8601 time.")
    }
}
