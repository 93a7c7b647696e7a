#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One cell of a table. Any column may hold null (Kusto's strings cannot, and here a string
/// column's null compares like ""); a timespan is a duration in seconds.
public enum LogValue: Sendable {
    case null
    case bool(Bool)
    case long(Int64)
    case real(Double)
    case string(String)
    case datetime(Date)
    case timespan(Double)
    case dynamic(LogDynamic)

    /// The value's type; nil for null, which fits any column.
    public var type: LogType? {
        switch self {
        case .null: nil
        case .bool: .bool
        case .long: .long
        case .real: .real
        case .string: .string
        case .datetime: .datetime
        case .timespan: .timespan
        case .dynamic: .dynamic
        }
    }

    public var isNull: Bool { if case .null = self { true } else { false } }

    /// The value as `tostring()` gives it and a table shows it: "" for null, ISO 8601 for a
    /// datetime, `[-][d.]hh:mm:ss[.fffffff]` for a timespan, JSON for a dynamic array or object.
    public var text: String {
        switch self {
        case .null: ""
        case .bool(let b): b ? "true" : "false"
        case .long(let n): String(n)
        case .real(let x): Self.realText(x)
        case .string(let s): s
        case .datetime(let d): KustoTime.isoText(d)
        case .timespan(let t): KustoTime.timespanText(seconds: t)
        case .dynamic(.string(let s)): s
        case .dynamic(let d): d.jsonText
        }
    }

    /// The value as a cell of the query API's JSON: numbers and booleans bare, everything else
    /// as its `text` in a string (as Log Analytics sends datetimes, timespans and dynamics).
    public var jsonText: String {
        switch self {
        case .null: "null"
        case .bool, .long: text
        case .real(let x) where x.isFinite: text
        case .dynamic(.null): "null"
        default: JSONText.quoted(text)
        }
    }

    static func realText(_ x: Double) -> String {
        if x.isNaN { return "NaN" }
        if x.isInfinite { return x < 0 ? "-Infinity" : "Infinity" }
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        return x.description
    }

    /// A dynamic scalar as the plain value it holds, so that `parse_json(p).n > 5` compares
    /// numbers; arrays and objects stay dynamic.
    var unwrapped: LogValue {
        guard case .dynamic(let d) = self else { return self }
        switch d {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .long(let n): return .long(n)
        case .real(let x): return .real(x)
        case .string(let s): return .string(s)
        case .array, .object: return self
        }
    }

    /// The value stored in a column of `type`: the type checker lets a long stand where a real
    /// is expected and anything where a dynamic is.
    func converted(to type: LogType) -> LogValue {
        switch (self, type) {
        case (.long(let n), .real): .real(Double(n))
        case (.null, _), (.dynamic, .dynamic): self
        case (_, .dynamic): .dynamic(LogDynamic(self))
        default: self
        }
    }
}

extension LogValue: Hashable {
    /// NaN equals NaN and -0 equals 0, so that grouping, `distinct` and `dcount` put them together.
    public static func == (a: LogValue, b: LogValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.long(let x), .long(let y)): x == y
        case (.real(let x), .real(let y)): sameReal(x, y)
        case (.string(let x), .string(let y)): x == y
        case (.datetime(let x), .datetime(let y)): sameReal(x.timeIntervalSinceReferenceDate, y.timeIntervalSinceReferenceDate)
        case (.timespan(let x), .timespan(let y)): sameReal(x, y)
        case (.dynamic(let x), .dynamic(let y)): x == y
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(1); hasher.combine(b)
        case .long(let n): hasher.combine(2); hasher.combine(n)
        case .real(let x): hasher.combine(3); hasher.combine(Self.realKey(x))
        case .string(let s): hasher.combine(4); hasher.combine(s)
        case .datetime(let d): hasher.combine(5); hasher.combine(Self.realKey(d.timeIntervalSinceReferenceDate))
        case .timespan(let t): hasher.combine(6); hasher.combine(Self.realKey(t))
        case .dynamic(let d): hasher.combine(7); hasher.combine(d)
        }
    }

    private static func sameReal(_ x: Double, _ y: Double) -> Bool { x == y || (x.isNaN && y.isNaN) }

    private static func realKey(_ x: Double) -> UInt64 { x.isNaN ? .max : (x == 0 ? 0 : x.bitPattern) }
}

extension LogValue: CustomStringConvertible {
    public var description: String { text }
}
