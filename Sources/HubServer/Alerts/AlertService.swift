import Foundation
import HubStore
import Logging
import ServiceLifecycle
import Twin

/// Evaluates every enabled alert rule each `--alert-interval`. A rule fires once when its
/// condition starts to hold and resolves once when it stops; each transition is recorded in the
/// rule's history with the metric value, and its actions run on their own tasks, so a slow or
/// failing action never holds up evaluation.
struct AlertService: Service {
    let hub: Hub

    func run() async throws {
        let actions = AlertActions(hub: hub)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: hub.config.alertInterval) }
            guard !Task.isShuttingDownGracefully else { break }
            do { try await evaluateAll(now: Date(), actions: actions) } catch {
                hub.logger.error("alert evaluation failed", metadata: ["error": "\(error)"])
            }
        }
        await actions.finish()
    }

    func evaluateAll(now: Date, actions: AlertActions) async throws {
        for row in try await hub.store.alerts() {
            guard let rule = try? JSONDecoder().decode(AlertRule.self, from: Data(row.definition.utf8)), rule.enabled else { continue }
            let from = now.addingTimeInterval(-rule.windowSeconds)
            guard let aggregate = hub.metrics.aggregate(rule.metric, from: from, to: now) else { continue }
            let value = rule.aggregation.pick(aggregate)
            let state = rule.operator.holds(value, rule.threshold) ? AlertState.fired : AlertState.resolved
            let previous = AlertState(rawValue: row.state) ?? .unknown
            guard state != previous else { continue }
            try await hub.store.setAlertState(name: row.name, state: state.rawValue)
            // The first evaluation only learns the state; "resolved" is not news.
            if previous == .unknown && state == .resolved { continue }
            var event = AlertEvent(name: row.name, rule: rule, state: state, value: value, time: now)
            if state == .resolved { event.firedTime = try await lastFiredTime(row.name) }
            let entryID = try await hub.store.appendAlertHistory(name: row.name, time: now, entry: event.historyEntry(results: []).jsonText)
            hub.logger.notice("alert \(state == .fired ? "fired" : "resolved")",
                              metadata: ["alert": "\(row.name)", "condition": "\(rule.condition)", "value": "\(JSONValue.format(value))"])
            actions.run(event, historyID: entryID)
        }
    }
}

extension AlertService {
    private func lastFiredTime(_ name: String) async throws -> String? {
        for entry in try await hub.store.alertHistory(name: name, limit: 20).reversed() {
            guard let json = try? JSONValue(parsing: entry), json["state"] == "Fired", let time = json["time"]?.stringValue else { continue }
            return time
        }
        return nil
    }
}

enum AlertState: String, Sendable {
    case unknown = "Unknown", fired = "Fired", resolved = "Resolved"
}

/// One transition of one rule.
struct AlertEvent: Sendable {
    var name: String
    var rule: AlertRule
    var state: AlertState
    var value: Double
    var time: Date
    /// For a resolution: when the alert fired, as its history recorded it (the common schema
    /// carries both times; the text is kept so that it matches the fired notification exactly).
    var firedTime: String?

    struct ActionResult: Sendable {
        var action: String
        var ok: Bool
        var attempts: Int
        var error: String?
    }

    func historyEntry(results: [ActionResult]) -> JSONValue {
        .object([
            "time": .string(TwinTime.format(time)), "state": .string(state.rawValue), "value": .number(value),
            "threshold": .number(rule.threshold), "operator": .string(rule.operator.rawValue),
            "aggregation": .string(rule.aggregation.rawValue), "window": .string(rule.window),
            "metric": .string(rule.metric.rawValue),
            "actions": .array(results.map { r in
                var o: [String: JSONValue] = ["action": .string(r.action), "ok": .bool(r.ok), "attempts": .number(Double(r.attempts))]
                if let e = r.error { o["error"] = .string(e) }
                return .object(o)
            }),
        ])
    }

    /// Azure Monitor's common alert schema, so that receivers written for Azure work unchanged.
    func commonAlertSchema(host: String) -> JSONValue {
        var essentials: [String: JSONValue] = [
            "alertId": .string("/outpost/alerts/\(name)"), "alertRule": .string(name), "severity": "Sev3",
            "signalType": "Metric", "monitorCondition": .string(state.rawValue), "monitoringService": "Platform",
            "alertTargetIDs": .array([.string(ResourceLog.resourceID(host: host).lowercased())]),
            "originAlertId": .string(name), "description": .string(rule.condition),
        ]
        if state == .fired {
            essentials["firedDateTime"] = .string(TwinTime.format(time))
        } else {
            essentials["resolvedDateTime"] = .string(TwinTime.format(time))
            if let firedTime { essentials["firedDateTime"] = .string(firedTime) }
        }
        return .object([
            "schemaId": "azureMonitorCommonAlertSchema",
            "data": .object([
                "essentials": .object(essentials),
                "alertContext": .object([
                    "conditionType": "SingleResourceMultipleMetricCriteria",
                    "condition": .object([
                        "windowSize": .string(rule.window),
                        "allOf": .array([.object([
                            "metricName": .string(rule.metric.rawValue), "metricNamespace": "Microsoft.Devices/IotHubs",
                            "operator": .string(rule.operator.rawValue), "threshold": .string(JSONValue.format(rule.threshold)),
                            "timeAggregation": .string(rule.aggregation.rawValue), "metricValue": .number(value),
                        ])]),
                    ]),
                ]),
            ]),
        ])
    }
}
