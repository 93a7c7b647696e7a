/// The order of values for `order by`, `top`, `min`/`max` and `arg_max`: numbers by value
/// (longs and reals together), strings by Unicode order, datetimes and timespans by time,
/// false before true. Values of unrelated types (in a dynamic column) order by type, so the
/// order is total and sorting is deterministic.
extension LogValue {
    static func order(_ a: LogValue, _ b: LogValue) -> Int {
        switch (a.unwrapped, b.unwrapped) {
        case (.long(let x), .long(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        case (.long(let x), .real(let y)): return compare(Double(x), y)
        case (.real(let x), .long(let y)): return compare(x, Double(y))
        case (.real(let x), .real(let y)): return compare(x, y)
        case (.string(let x), .string(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        case (.datetime(let x), .datetime(let y)): return compare(x.timeIntervalSinceReferenceDate, y.timeIntervalSinceReferenceDate)
        case (.timespan(let x), .timespan(let y)): return compare(x, y)
        case (.bool(let x), .bool(let y)): return x == y ? 0 : (x ? 1 : -1)
        case (.dynamic(let x), .dynamic(let y)): let (s, t) = (x.jsonText, y.jsonText); return s < t ? -1 : (s == t ? 0 : 1)
        case (let x, let y): return x.rank - y.rank
        }
    }

    /// Null and NaN sort together, at the end chosen by `nulls first|last`.
    var isNullForOrdering: Bool {
        switch unwrapped {
        case .null: true
        case .real(let x): x.isNaN
        default: false
        }
    }

    /// NaN before every number, so the order of reals is total.
    private static func compare(_ x: Double, _ y: Double) -> Int {
        if x.isNaN || y.isNaN { return (x.isNaN ? 0 : 1) - (y.isNaN ? 0 : 1) }
        return x < y ? -1 : (x == y ? 0 : 1)
    }

    private var rank: Int {
        switch self {
        case .null: 0
        case .bool: 1
        case .long, .real: 2
        case .timespan: 3
        case .datetime: 4
        case .string: 5
        case .dynamic: 6
        }
    }
}
