/// What binary operators, `in`, `between` and search terms do to values.
enum Operators {
    static func apply(_ op: BinaryOperator, _ left: LogValue, _ right: LogValue) -> LogValue {
        switch op.kind {
        case .arithmetic:
            return arithmetic(op, left.unwrapped, right.unwrapped)
        case .equality:
            guard let same = equal(left, right) else { return .null }
            return .bool(op == .equal ? same : !same)
        case .ordering:
            guard let c = compare(left, right) else { return .null }
            switch op {
            case .less: return .bool(c < 0)
            case .lessOrEqual: return .bool(c <= 0)
            case .greater: return .bool(c > 0)
            default: return .bool(c >= 0)
            }
        case .string:
            let (match, caseSensitive, negated) = op.stringMatch
            return .bool(match.matches(left.text, right.text, caseSensitive: caseSensitive) != negated)
        }
    }

    /// `==`: nil when a side is null, except that a null string equals "".
    static func equal(_ left: LogValue, _ right: LogValue) -> Bool? {
        switch (left.unwrapped, right.unwrapped) {
        case (.null, .string(let s)), (.string(let s), .null): s.isEmpty
        case (.null, _), (_, .null): nil
        case (.long(let x), .real(let y)): Double(x) == y
        case (.real(let x), .long(let y)): x == Double(y)
        case (.real(let x), .real(let y)): x == y
        case (let a, let b): a == b
        }
    }

    /// `<` and friends: nil for null, NaN or values of unrelated types.
    static func compare(_ left: LogValue, _ right: LogValue) -> Int? {
        var (a, b) = (left.unwrapped, right.unwrapped)
        if case .string = a, b.isNull { b = .string("") }
        if case .string = b, a.isNull { a = .string("") }
        if a.isNullForOrdering || b.isNullForOrdering { return nil }
        switch (a, b) {
        case (.long, .long), (.long, .real), (.real, .long), (.real, .real), (.string, .string), (.datetime, .datetime),
             (.timespan, .timespan), (.bool, .bool):
            return LogValue.order(a, b)
        default:
            return nil
        }
    }

    static func arithmetic(_ op: BinaryOperator, _ a: LogValue, _ b: LogValue) -> LogValue {
        switch (a, b) {
        case (.long(let x), .long(let y)):
            return longArithmetic(op, x, y).map(LogValue.long) ?? .null
        case (.datetime(let d), .timespan(let t)) where op == .add || op == .subtract:
            return KustoTime.datetime(seconds: d.timeIntervalSince1970 + (op == .add ? t : -t))
        case (.timespan(let t), .datetime(let d)) where op == .add:
            return KustoTime.datetime(seconds: d.timeIntervalSince1970 + t)
        case (.datetime(let x), .datetime(let y)) where op == .subtract:
            return .timespan(x.timeIntervalSince1970 - y.timeIntervalSince1970)
        case (.timespan(let x), .timespan(let y)):
            switch op {
            case .add: return .timespan(x + y)
            case .subtract: return .timespan(x - y)
            case .divide: return .real(x / y)
            default: return .null
            }
        case (.timespan(let t), _) where op == .multiply || op == .divide:
            guard let n = b.doubleValue else { return .null }
            return .timespan(op == .multiply ? t * n : t / n)
        case (_, .timespan(let t)) where op == .multiply:
            guard let n = a.doubleValue else { return .null }
            return .timespan(t * n)
        default:
            guard let x = a.doubleValue, let y = b.doubleValue else { return .null }
            switch op {
            case .add: return .real(x + y)
            case .subtract: return .real(x - y)
            case .multiply: return .real(x * y)
            case .divide: return .real(x / y)
            default: return .real(x.truncatingRemainder(dividingBy: y))
            }
        }
    }

    /// Long arithmetic; nil on overflow or division by zero.
    private static func longArithmetic(_ op: BinaryOperator, _ x: Int64, _ y: Int64) -> Int64? {
        let (value, overflow): (Int64, Bool)
        switch op {
        case .add: (value, overflow) = x.addingReportingOverflow(y)
        case .subtract: (value, overflow) = x.subtractingReportingOverflow(y)
        case .multiply: (value, overflow) = x.multipliedReportingOverflow(by: y)
        case .divide:
            guard y != 0 else { return nil }
            (value, overflow) = x.dividedReportingOverflow(by: y)
        default:
            guard y != 0 else { return nil }
            (value, overflow) = x.remainderReportingOverflow(dividingBy: y)
        }
        return overflow ? nil : value
    }

    static func negate(_ value: LogValue) -> LogValue {
        switch value.unwrapped {
        case .long(let n):
            let (negated, overflow) = Int64(0).subtractingReportingOverflow(n)
            return overflow ? .null : .long(negated)
        case .real(let x): return .real(-x)
        case .timespan(let t): return .timespan(-t)
        default: return .null
        }
    }

    static func listMatch(_ op: ListOperator, _ value: LogValue, _ item: LogValue) -> Bool {
        switch op {
        case .in, .notIn: equal(value, item) == true
        case .inIgnoringCase, .notInIgnoringCase: StringMatch.equal.matches(value.text, item.text, caseSensitive: false)
        case .hasAny: StringMatch.has.matches(value.text, item.text, caseSensitive: false)
        }
    }

    /// `low <= value <= high`, inclusive; for datetimes `high` may be a timespan after `low`.
    static func between(_ value: LogValue, _ low: LogValue, _ high: LogValue) -> Bool? {
        var high = high.unwrapped
        if case .datetime(let start) = low.unwrapped, case .timespan(let span) = high {
            high = KustoTime.datetime(seconds: start.timeIntervalSince1970 + span)
        }
        guard let fromLow = compare(value, low), let toHigh = compare(value, high) else { return nil }
        return fromLow >= 0 && toHigh <= 0
    }

    /// A search term in a value's text: `term` as `has`, `term*` as `hasprefix`, `*term` as
    /// `hassuffix`, `*term*` as `contains`, and `a*b` as a and then b; case-insensitive.
    static func searchMatches(_ term: String, _ text: String) -> Bool {
        let leading = term.hasPrefix("*")
        let trailing = term.count > 1 && term.hasSuffix("*")
        let core = String(term.dropFirst(leading ? 1 : 0).dropLast(trailing ? 1 : 0))
        if core.isEmpty { return true }
        if core.contains("*") {
            var hay = Array(text.lowercased().unicodeScalars)[...]
            for piece in core.lowercased().split(separator: "*") {
                let needle = Array(piece.unicodeScalars)
                guard let at = StringMatch.firstIndex(of: needle, in: hay) else { return false }
                hay = hay[(at + needle.count)...]
            }
            return true
        }
        let match: StringMatch = switch (leading, trailing) {
        case (true, true): .contains
        case (false, true): .hasprefix
        case (true, false): .hassuffix
        case (false, false): .has
        }
        return match.matches(text, core, caseSensitive: false)
    }
}

extension LogValue {
    /// A number as a Double; nil for anything else.
    var doubleValue: Double? {
        switch unwrapped {
        case .long(let n): Double(n)
        case .real(let x): x
        default: nil
        }
    }
}
