#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Evaluates a type-checked expression on one row. Nulls propagate (a comparison with null is
/// null, which `where` drops), except that a null string compares like "" (Kusto's strings are
/// never null). Arithmetic that overflows, divides a long by zero or leaves Kusto's datetime
/// range is null.
struct Evaluator {
    let schema: Schema
    let now: Date

    /// Strings longer than this (in UTF-8 bytes) are refused, so `strcat` chains cannot exhaust
    /// memory, and `has`/`contains` (quadratic at worst) stay fast.
    static let maxStringLength = 1 << 16

    func evaluate(_ expression: LogExpression, _ row: [LogValue]) throws(LogQueryError) -> LogValue {
        switch expression {
        case .literal(let value, _):
            return value
        case .datetimeLiteral(let ticks, _):
            return ticks.map { .datetime(KustoTime.date(ticks: $0)) } ?? .null
        case .timespanLiteral(let ticks, _):
            return .timespan(Double(ticks) / Double(KustoTime.ticksPerSecond))
        case .column(let name, _):
            guard let i = schema.index(of: name), i < row.count else { return .null }
            return row[i]
        case .star:
            return .null
        case .and(let operands):
            var sawNull = false
            for operand in operands {
                switch try evaluate(operand, row).boolValue {
                case false?: return .bool(false)
                case nil: sawNull = true
                case true?: continue
                }
            }
            return sawNull ? .null : .bool(true)
        case .or(let operands):
            var sawNull = false
            for operand in operands {
                switch try evaluate(operand, row).boolValue {
                case true?: return .bool(true)
                case nil: sawNull = true
                case false?: continue
                }
            }
            return sawNull ? .null : .bool(false)
        case .binary(let op, let left, let right, _):
            return Operators.apply(op, try evaluate(left, row), try evaluate(right, row))
        case .negate(let operand, _):
            return Operators.negate(try evaluate(operand, row))
        case .list(let op, let left, let items, _):
            let value = try evaluate(left, row)
            var found = false
            for item in items where !found {
                found = Operators.listMatch(op, value, try evaluate(item, row))
            }
            return .bool(op == .notIn || op == .notInIgnoringCase ? !found : found)
        case .between(let value, let low, let high, let negated, _):
            guard let inside = Operators.between(try evaluate(value, row), try evaluate(low, row), try evaluate(high, row)) else { return .null }
            return .bool(inside != negated)
        case .member(let base, let key, _):
            guard case .dynamic(let d) = try evaluate(base, row) else { return .null }
            return Self.dynamicValue(d.member(key))
        case .index(let base, let key, _):
            guard case .dynamic(let d) = try evaluate(base, row) else { return .null }
            switch try evaluate(key, row).unwrapped {
            case .long(let i): return Self.dynamicValue(d.element(i))
            case .string(let k): return Self.dynamicValue(d.member(k))
            default: return .null
            }
        case .searchTerm(let term, let column, _):
            if let column {
                guard let i = schema.index(of: column.text), i < row.count else { return .bool(false) }
                return .bool(Operators.searchMatches(term, row[i].text))
            }
            return .bool(row.contains { Operators.searchMatches(term, $0.text) })
        case .call(let function, let arguments, let position):
            var values: [LogValue] = []
            values.reserveCapacity(arguments.count)
            for argument in arguments { values.append(try evaluate(argument, row)) }
            return try ScalarFunctions(now: now).call(function, values, at: position)
        }
    }

    /// Whether the condition holds for the row: true, not false or null.
    func holds(_ condition: LogExpression, _ row: [LogValue]) throws(LogQueryError) -> Bool {
        try evaluate(condition, row).boolValue == true
    }

    /// A dynamic null is null, so `isnull(parse_json(p).missing)` is true.
    static func dynamicValue(_ d: LogDynamic) -> LogValue { d == .null ? .null : .dynamic(d) }
}

extension LogValue {
    /// The value as a condition: nil for null or a non-bool.
    var boolValue: Bool? {
        if case .bool(let b) = unwrapped { return b }
        return nil
    }
}
