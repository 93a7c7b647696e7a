import Foundation
import IoTProtocol
import Twin

/// A metric alert rule, as Azure Monitor's classic metric alerts define one.
public struct AlertRule: Sendable, Equatable, Codable {
    public enum Operator: String, CaseIterable, Sendable, Codable {
        case greaterThan = "GreaterThan", greaterThanOrEqual = "GreaterThanOrEqual"
        case lessThan = "LessThan", lessThanOrEqual = "LessThanOrEqual"
        case equals = "Equals", notEquals = "NotEquals"

        func holds(_ value: Double, _ threshold: Double) -> Bool {
            switch self {
            case .greaterThan: value > threshold
            case .greaterThanOrEqual: value >= threshold
            case .lessThan: value < threshold
            case .lessThanOrEqual: value <= threshold
            case .equals: value == threshold
            case .notEquals: value != threshold
            }
        }
    }

    public enum Aggregation: String, CaseIterable, Sendable, Codable {
        case minimum = "Minimum", maximum = "Maximum", average = "Average", total = "Total", count = "Count"

        func pick(_ a: MetricAggregate) -> Double {
            switch self {
            case .minimum: a.minimum
            case .maximum: a.maximum
            case .average: a.average
            case .total: a.total
            case .count: Double(a.count)
            }
        }
    }

    public enum Action: Sendable, Equatable, Codable, CustomStringConvertible {
        case webhook(URL)
        case exec(String)
        case log

        init(parsing text: String) throws {
            if text == "log" {
                self = .log
            } else if text.hasPrefix("exec:"), text.count > 5 {
                self = .exec(String(text.dropFirst(5)))
            } else if text.hasPrefix("webhook:"), let url = URL(string: String(text.dropFirst(8))),
                      ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil {
                self = .webhook(url)
            } else {
                throw HubError.argumentInvalid("action \"\(text)\" is invalid: use webhook:https://…, exec:COMMAND or log.")
            }
        }

        public var description: String {
            switch self {
            case .webhook(let url): "webhook:\(url.absoluteString)"
            case .exec(let command): "exec:\(command)"
            case .log: "log"
            }
        }

        public init(from decoder: Decoder) throws { try self.init(parsing: try decoder.singleValueContainer().decode(String.self)) }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            try c.encode(description)
        }
    }

    public var metric: HubMetric
    public var `operator`: Operator
    public var threshold: Double
    public var windowSeconds: Double
    public var aggregation: Aggregation
    public var actions: [Action]
    public var enabled: Bool

    static let windowRange = 1.0...86_400.0

    /// Reads a PUT body, naming what is wrong and what is allowed.
    init(body: [String: JSONValue]) throws {
        guard let metricName = body["metric"]?.stringValue, let metric = HubMetric.named(metricName) else {
            throw HubError.argumentInvalid("metric is missing or unknown: use one of \(HubMetric.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        guard let op = body["operator"]?.stringValue.flatMap({ o in Operator.allCases.first { $0.rawValue.lowercased() == o.lowercased() } }) else {
            throw HubError.argumentInvalid("operator is missing or unknown: use \(Operator.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        guard let threshold = body["threshold"]?.numberValue else {
            throw HubError.argumentInvalid("threshold must be a number.")
        }
        guard let windowText = body["window"]?.stringValue, let window = DurationText.seconds(windowText),
              Self.windowRange.contains(window) else {
            throw HubError.argumentInvalid("window must be a duration from 1s to 1d, e.g. \"5m\" or \"PT5M\".")
        }
        guard window <= Double(HubMetrics.secondsKept) else {
            throw HubError.argumentInvalid("window must be at most 1h: alerts evaluate the last hour of one-second samples.")
        }
        guard let aggregationText = body["aggregation"]?.stringValue,
              let aggregation = Aggregation.allCases.first(where: { $0.rawValue.lowercased() == aggregationText.lowercased() }) else {
            throw HubError.argumentInvalid("aggregation is missing or unknown: use \(Aggregation.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        guard case .array(let actionValues)? = body["actions"], !actionValues.isEmpty else {
            throw HubError.argumentInvalid("actions must list at least one of webhook:URL, exec:COMMAND, log.")
        }
        let actions = try actionValues.map { value -> Action in
            guard let text = value.stringValue else { throw HubError.argumentInvalid("each action must be a string.") }
            return try Action(parsing: text)
        }
        var enabled = true
        if let e = body["enabled"] {
            guard case .bool(let b) = e else { throw HubError.argumentInvalid("enabled must be true or false.") }
            enabled = b
        }
        self.init(metric: metric, operator: op, threshold: threshold, windowSeconds: window, aggregation: aggregation,
                  actions: actions, enabled: enabled)
    }

    init(metric: HubMetric, operator: Operator, threshold: Double, windowSeconds: Double, aggregation: Aggregation,
         actions: [Action], enabled: Bool) {
        self.metric = metric
        self.operator = `operator`
        self.threshold = threshold
        self.windowSeconds = windowSeconds
        self.aggregation = aggregation
        self.actions = actions
        self.enabled = enabled
    }

    var window: String { DurationText.iso(seconds: windowSeconds) }

    var condition: String { "\(aggregation.rawValue) \(metric.rawValue) \(`operator`.rawValue) \(JSONValue.format(threshold)) over \(window)" }

    func json(name: String, state: String, updated: Date?) -> JSONValue {
        var o: [String: JSONValue] = [
            "name": .string(name), "metric": .string(metric.rawValue), "operator": .string(`operator`.rawValue),
            "threshold": .number(threshold), "window": .string(window), "aggregation": .string(aggregation.rawValue),
            "actions": .array(actions.map { .string($0.description) }), "enabled": .bool(enabled), "state": .string(state),
        ]
        if let updated { o["updatedTime"] = .string(TwinTime.format(updated)) }
        return .object(o)
    }
}
