#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What each scalar function returns for argument values. Conversions that cannot be made
/// (`tolong("abc")`) are null, as in Kusto.
struct ScalarFunctions {
    let now: Date

    func call(_ function: LogFunction, _ values: [LogValue], at position: Int) throws(LogQueryError) -> LogValue {
        let first = values.first?.unwrapped ?? .null
        switch function {
        case .ago:
            guard case .timespan(let t) = first else { return .null }
            return KustoTime.datetime(seconds: now.timeIntervalSince1970 - t)
        case .now:
            if case .timespan(let t) = first { return KustoTime.datetime(seconds: now.timeIntervalSince1970 + t) }
            return .datetime(now)
        case .bin:
            return Self.bin(first, values[1].unwrapped)
        case .todatetime:
            switch first {
            case .datetime: return first
            case .string(let s): return KustoTime.parseDatetime(s).map { .datetime(KustoTime.date(ticks: $0)) } ?? .null
            default: return .null
            }
        case .totimespan:
            switch first {
            case .timespan: return first
            case .string(let s): return KustoTime.parseTimespan(s).map { .timespan(Double($0) / Double(KustoTime.ticksPerSecond)) } ?? .null
            default: return .null
            }
        case .tostring:
            return .string(first.text)
        case .tolong, .toint:
            guard let n = Self.long(first) else { return .null }
            if function == .toint, Int64(Int32.min) > n || n > Int64(Int32.max) { return .null }
            return .long(n)
        case .todouble:
            return Self.double(first).map(LogValue.real) ?? .null
        case .tobool:
            return Self.bool(first).map(LogValue.bool) ?? .null
        case .strlen:
            return .long(Int64(first.text.unicodeScalars.count))
        case .tolower:
            return .string(first.text.lowercased())
        case .toupper:
            return .string(first.text.uppercased())
        case .strcat:
            var text = ""
            for value in values {
                text += value.text
                if text.utf8.count > Evaluator.maxStringLength {
                    throw LogQueryError(.limit, at: position, "strcat() would make a string longer than \(Evaluator.maxStringLength) bytes")
                }
            }
            return .string(text)
        case .substring:
            return Self.substring(first.text, values[1], values.count > 2 ? values[2] : nil)
        case .isempty, .isnotempty:
            let empty = first.isNull || first == .string("")
            return .bool(function == .isempty ? empty : !empty)
        case .isnull:
            return .bool(first.isNull)
        case .isnotnull:
            return .bool(!first.isNull)
        case .iif:
            return values[0].boolValue == true ? values[1] : values[2]
        case .coalesce:
            return values.first { !$0.isNull && $0 != .string("") } ?? .null
        case .not:
            return first.boolValue.map { .bool(!$0) } ?? .null
        case .abs:
            switch first {
            case .long(let n): return n == .min ? .null : .long(Swift.abs(n))
            case .real(let x): return .real(Swift.abs(x))
            case .timespan(let t): return .timespan(Swift.abs(t))
            default: return .null
            }
        case .round:
            return Self.round(first, values.count > 1 ? values[1].unwrapped : .long(0))
        case .parseJSON:
            switch values[0] {
            case .null: return .null
            case .dynamic: return values[0]
            case .string(let s): return .dynamic(LogDynamic.parse(s) ?? .string(s))
            default: return .dynamic(LogDynamic(values[0]))
            }
        case .arrayLength:
            guard case .dynamic(.array(let items)) = values[0] else { return .null }
            return .long(Int64(items.count))
        case .count, .countif, .dcount, .sum, .avg, .min, .max, .any, .makeSet, .makeList, .argMax, .argMin:
            return .null  // the type checker keeps aggregations out of scalar expressions
        }
    }

    /// `bin(value, size)`: the value rounded down to a multiple of size; datetimes count bins
    /// from 0001-01-01 as Kusto does. Null for a size that is not positive.
    static func bin(_ value: LogValue, _ size: LogValue) -> LogValue {
        switch (value, size) {
        case (.long(let x), .long(let s)):
            guard s > 0 else { return .null }
            let (bins, overflow) = KustoTime.floorDivision(x, s).quotient.multipliedReportingOverflow(by: s)
            return overflow ? .null : .long(bins)
        case (.timespan(let x), .timespan(let s)):
            guard s > 0 else { return .null }
            return .timespan((x / s).rounded(.down) * s)
        case (.datetime(let d), _):
            guard let s = size.timespanOrNumber, s > 0 else { return .null }
            let sinceOrigin = d.timeIntervalSince1970 + KustoTime.binOrigin
            return KustoTime.datetime(seconds: (sinceOrigin / s).rounded(.down) * s - KustoTime.binOrigin)
        default:
            guard let x = value.doubleValue, let s = size.doubleValue, s > 0 else { return .null }
            return .real((x / s).rounded(.down) * s)
        }
    }

    static func long(_ value: LogValue) -> Int64? {
        switch value {
        case .long(let n): return n
        case .real(let x): return truncated(x)
        case .bool(let b): return b ? 1 : 0
        case .string(let s):
            let t = String(KustoTime.trimmed(s))
            return Int64(t) ?? Double(t).flatMap(truncated)
        case .timespan(let t): return truncated(t * Double(KustoTime.ticksPerSecond))
        case .datetime(let d): return truncated((d.timeIntervalSince1970 + KustoTime.binOrigin) * Double(KustoTime.ticksPerSecond))
        default: return nil
        }
    }

    static func double(_ value: LogValue) -> Double? {
        switch value {
        case .long(let n): Double(n)
        case .real(let x): x
        case .bool(let b): b ? 1 : 0
        case .string(let s): Double(String(KustoTime.trimmed(s)))
        case .timespan, .datetime: long(value).map(Double.init)
        default: nil
        }
    }

    static func bool(_ value: LogValue) -> Bool? {
        switch value {
        case .bool(let b): b
        case .long(let n): n != 0
        case .real(let x): x.isNaN ? nil : x != 0
        case .string(let s):
            switch s.lowercased() {
            case "true", "1": true
            case "false", "0": false
            default: nil
            }
        default: nil
        }
    }

    /// A Double's whole part as a long, if it has one that fits.
    static func truncated(_ x: Double) -> Int64? {
        guard x.isFinite, x > -9.2e18, x < 9.2e18 else { return nil }
        return Int64(x.rounded(.towardZero))
    }

    /// Characters (scalars) from `start` (0-based, clamped), `length` of them or to the end.
    private static func substring(_ text: String, _ start: LogValue, _ length: LogValue?) -> LogValue {
        let scalars = Array(text.unicodeScalars)
        guard let from = long(start.unwrapped) else { return .null }
        let begin = Int(Swift.min(Swift.max(from, 0), Int64(scalars.count)))
        var end = scalars.count
        if let length {
            guard let n = long(length.unwrapped) else { return .null }
            end = Int(Swift.min(Int64(begin) + Swift.max(0, Swift.min(n, Int64(scalars.count))), Int64(scalars.count)))
        }
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scalars[begin..<end])
        return .string(String(result))
    }

    private static func round(_ value: LogValue, _ digits: LogValue) -> LogValue {
        guard case .long(let d) = digits else { return .null }
        switch value {
        case .long(let n):
            guard d < 0 else { return value }
            guard d > -19 else { return .long(0) }
            let scale = (0..<(-d)).reduce(Int64(1)) { r, _ in r * 10 }
            let (q, r) = KustoTime.floorDivision(n, scale)
            let (rounded, overflow) = (r * 2 >= scale ? q + 1 : q).multipliedReportingOverflow(by: scale)
            return overflow ? .null : .long(rounded)
        case .real(let x):
            var scale = 1.0
            for _ in 0..<Swift.min(d.magnitude, 300) { scale *= 10 }
            if d < 0 { scale = 1 / scale }
            let rounded = (x * scale).rounded() / scale
            return .real(rounded.isFinite ? rounded : x)
        default:
            return .null
        }
    }
}

private extension LogValue {
    /// A bin size for datetimes: a timespan, or a number of seconds from a dynamic.
    var timespanOrNumber: Double? {
        if case .timespan(let t) = self { return t }
        return doubleValue
    }
}
