import Foundation
import HubStore
import IoTProtocol
import Twin

/// `/$outpost/metrics[/{name}]`: current values and one-minute history.
struct MetricsAPI: Sendable {
    let hub: Hub

    func list() -> HTTPResponse {
        .jsonValue(.array(HubMetric.allCases.map { m in
            .object(["name": .string(m.rawValue), "unit": .string(m.unit), "description": .string(m.summary),
                     "value": .number(hub.metrics.current(m)), "kind": .string(m.isGauge ? "gauge" : "counter")])
        }))
    }

    /// Points of `interval` (a whole number of minutes) from `since` ago until now; the minute in
    /// progress comes from memory, the rest from the store.
    func show(_ name: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        guard let metric = HubMetric.named(name) else {
            throw HubError(.notFound, "Metric '\(name)' not found: use one of \(HubMetric.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        let since = try seconds(request.query["since"] ?? "1h", "since", 60...(90 * 86_400))
        let interval = try seconds(request.query["interval"] ?? "1m", "interval", 60...86_400)
        let minutesPerPoint = Int64(interval / 60)
        let now = Date()
        let nowMinute = Int64(now.timeIntervalSince1970) / 60
        let firstMinute = nowMinute - Int64(since / 60) + 1
        var rows = try await hub.store.metricSamples(name: metric.rawValue, fromMinute: firstMinute).filter { $0.minute < nowMinute }
        rows += hub.metrics.minuteRows(minute: nowMinute).filter { $0.name == metric.rawValue }
        var points: [Int64: MetricAggregate] = [:]
        for row in rows {
            let bucket = row.minute - ((row.minute - firstMinute) % minutesPerPoint)
            points[bucket, default: MetricAggregate()].merge(MetricAggregate(count: row.count, total: row.total, minimum: row.minimum, maximum: row.maximum))
        }
        let json = points.keys.sorted().map { minute -> JSONValue in
            let a = points[minute]!
            return .object([
                "time": .string(TwinTime.format(Date(timeIntervalSince1970: Double(minute * 60)))),
                "count": .number(Double(a.count)), "total": .number(a.total),
                "minimum": .number(a.count == 0 ? 0 : a.minimum), "maximum": .number(a.count == 0 ? 0 : a.maximum),
                "average": .number(metric.isGauge ? a.average : a.total / Double(minutesPerPoint)),
            ])
        }
        return .jsonValue(.object(["name": .string(metric.rawValue), "unit": .string(metric.unit),
                                   "interval": .string(DurationText.iso(seconds: interval)), "points": .array(json)]))
    }

    private func seconds(_ text: String, _ name: String, _ range: ClosedRange<Double>) throws -> Double {
        guard let s = DurationText.seconds(text), range.contains(s), s.truncatingRemainder(dividingBy: 60) == 0 else {
            throw HubError.argumentInvalid("\(name) \"\(text)\" must be whole minutes from \(DurationText.iso(seconds: range.lowerBound)) to \(DurationText.iso(seconds: range.upperBound)), e.g. 1m, 15m, 1h.")
        }
        return s
    }
}
