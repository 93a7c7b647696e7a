import ArgumentParser
import Foundation

/// `--operator` of `alerts create`: Azure Monitor's comparison operators.
enum AlertOperator: String, CaseIterable, ExpressibleByArgument {
    case greaterThan = "GreaterThan", greaterThanOrEqual = "GreaterThanOrEqual", lessThan = "LessThan"
    case lessThanOrEqual = "LessThanOrEqual", equals = "Equals", notEquals = "NotEquals"

    /// Any case is accepted; the hub is sent Azure's spelling.
    init?(argument: String) {
        guard let match = Self.allCases.first(where: { $0.rawValue.lowercased() == argument.lowercased() }) else { return nil }
        self = match
    }

    var symbol: String {
        switch self {
        case .greaterThan: ">"
        case .greaterThanOrEqual: ">="
        case .lessThan: "<"
        case .lessThanOrEqual: "<="
        case .equals: "=="
        case .notEquals: "!="
        }
    }
}

/// `--aggregation` of `alerts create`: how the window's per-minute values become one number.
enum AlertAggregation: String, CaseIterable, ExpressibleByArgument {
    case minimum = "Minimum", maximum = "Maximum", average = "Average", total = "Total", count = "Count"

    init?(argument: String) {
        guard let match = Self.allCases.first(where: { $0.rawValue.lowercased() == argument.lowercased() }) else { return nil }
        self = match
    }
}
