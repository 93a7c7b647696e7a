import CoreMetrics
import Foundation
import HubStore
import NIOConcurrencyHelpers
import Prometheus

/// Aggregates of one metric over an interval.
public struct MetricAggregate: Sendable, Equatable {
    public var count: Int64 = 0
    public var total: Double = 0
    public var minimum: Double = .infinity
    public var maximum: Double = -.infinity

    public var average: Double { count == 0 ? 0 : total / Double(count) }

    mutating func add(_ value: Double) {
        count += 1
        total += value
        minimum = Swift.min(minimum, value)
        maximum = Swift.max(maximum, value)
    }

    mutating func merge(_ other: MetricAggregate) {
        count += other.count
        total += other.total
        minimum = Swift.min(minimum, other.minimum)
        maximum = Swift.max(maximum, other.maximum)
    }
}

/// The hub's metrics: exported to Prometheus through swift-metrics, and kept as one-second
/// buckets for the last hour (what alerts evaluate) and one-minute rows in the store (history).
public final class HubMetrics: Sendable {
    static let secondsKept: Int64 = 3600

    public let registry = PrometheusCollectorRegistry()
    private let counters: [HubMetric: CoreMetrics.Counter]
    private let gauges: [HubMetric: CoreMetrics.Gauge]
    /// metric → Unix second → aggregate of that second.
    private let seconds = NIOLockedValueBox<[HubMetric: [Int64: MetricAggregate]]>([:])
    private let latest = NIOLockedValueBox<[HubMetric: Double]>([:])

    public init() {
        let factory = PrometheusMetricsFactory(registry: registry)
        var counters: [HubMetric: CoreMetrics.Counter] = [:]
        var gauges: [HubMetric: CoreMetrics.Gauge] = [:]
        for metric in HubMetric.allCases {
            if metric.isGauge {
                gauges[metric] = Gauge(label: metric.prometheusName, factory: factory)
            } else {
                counters[metric] = Counter(label: metric.prometheusName + "_total", factory: factory)
            }
        }
        self.counters = counters
        self.gauges = gauges
    }

    /// Counts one event (or `by`).
    public func increment(_ metric: HubMetric, by amount: Int = 1, at time: Date = Date()) {
        counters[metric]?.increment(by: amount)
        let second = Int64(time.timeIntervalSince1970)
        seconds.withLockedValue { $0[metric, default: [:]][second, default: MetricAggregate()].add(Double(amount)) }
        latest.withLockedValue { $0[metric, default: 0] += Double(amount) }
    }

    /// Records a gauge's value (sampled once a second by `MetricsService`).
    public func sample(_ metric: HubMetric, _ value: Double, at time: Date = Date()) {
        gauges[metric]?.record(value)
        let second = Int64(time.timeIntervalSince1970)
        seconds.withLockedValue { $0[metric, default: [:]][second, default: MetricAggregate()].add(value) }
        latest.withLockedValue { $0[metric] = value }
    }

    /// A gauge's last value, or a counter's total since the hub started.
    public func current(_ metric: HubMetric) -> Double { latest.withLockedValue { $0[metric] ?? 0 } }

    /// The aggregate over the seconds in `[from, to)`; nil when nothing was recorded (a counter
    /// with no events counts as 0 events: its aggregate is zero, not missing).
    public func aggregate(_ metric: HubMetric, from: Date, to: Date) -> MetricAggregate? {
        let lo = Int64(from.timeIntervalSince1970), hi = Int64(to.timeIntervalSince1970)
        let result = seconds.withLockedValue { all -> MetricAggregate in
            var sum = MetricAggregate()
            for (second, bucket) in all[metric] ?? [:] where second >= lo && second < hi { sum.merge(bucket) }
            return sum
        }
        if result.count == 0 { return metric.isGauge ? nil : MetricAggregate(count: 0, total: 0, minimum: 0, maximum: 0) }
        return result
    }

    /// One-minute rows for the minute that starts at `minute * 60`.
    func minuteRows(minute: Int64) -> [MetricSampleRow] {
        let from = minute * 60, to = from + 60
        return seconds.withLockedValue { all in
            HubMetric.allCases.compactMap { metric in
                var sum = MetricAggregate()
                for (second, bucket) in all[metric] ?? [:] where second >= from && second < to { sum.merge(bucket) }
                guard sum.count > 0 else {
                    // Counters that saw nothing still get a zero row, so charts show the gap as 0.
                    return metric.isGauge ? nil : MetricSampleRow(name: metric.rawValue, minute: minute, count: 0, total: 0, minimum: 0, maximum: 0)
                }
                return MetricSampleRow(name: metric.rawValue, minute: minute, count: sum.count, total: sum.total,
                                       minimum: sum.minimum, maximum: sum.maximum)
            }
        }
    }

    func prune(before second: Int64) {
        seconds.withLockedValue { all in
            for metric in all.keys { all[metric] = all[metric]?.filter { $0.key >= second } }
        }
    }

    /// The Prometheus text exposition of every metric.
    public func prometheusText() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
