/// The type of an expression over a schema, found before any row is read, so a query over an
/// empty table still reports unknown columns and type errors, and result columns have types.
struct TypeChecker {
    let schema: Schema

    func type(of expression: LogExpression) throws(LogQueryError) -> LogType {
        switch expression {
        case .literal(let value, _):
            return value.type ?? .string
        case .datetimeLiteral:
            return .datetime
        case .timespanLiteral:
            return .timespan
        case .column(let name, let position):
            return try schema.column(name, at: position).type
        case .star(let position):
            throw LogQueryError(.type, at: position, "'*' stands only as an argument of arg_max() or arg_min()")
        case .and(let operands), .or(let operands):
            let word = if case .and = expression { "and" } else { "or" }
            for operand in operands {
                let t = try type(of: operand)
                guard t == .bool || t == .dynamic else {
                    throw LogQueryError(.type, at: operand.start, "'\(word)' needs bool operands, found \(t.rawValue)")
                }
            }
            return .bool
        case .binary(let op, let left, let right, let position):
            return try binaryType(op, try type(of: left), try type(of: right), at: position)
        case .negate(let operand, let position):
            let t = try type(of: operand)
            guard t.isNumeric || t == .timespan else { throw LogQueryError(.type, at: position, "cannot negate a \(t.rawValue)") }
            return t
        case .list(let op, let left, let items, _):
            let t = try type(of: left)
            for item in items {
                let itemType = try type(of: item)
                if op == .in || op == .notIn, !Self.comparable(t, itemType) {
                    throw LogQueryError(.type, at: item.start, "cannot compare \(t.rawValue) with \(itemType.rawValue) in '\(op.rawValue)'" + Self.hint(t, itemType))
                }
            }
            return .bool
        case .between(let value, let low, let high, _, let position):
            let (v, l, h) = (try type(of: value), try type(of: low), try type(of: high))
            let ok = [v, l].allSatisfy { $0.isNumeric || $0 == .dynamic } && (h.isNumeric || h == .dynamic)
                || (v == l && (v == .datetime || v == .timespan) && (h == v || h == .timespan))
            guard ok else {
                throw LogQueryError(.type, at: position, "between needs numbers, datetimes or timespans, found \(v.rawValue) between \(l.rawValue) and \(h.rawValue)")
            }
            return .bool
        case .member(let base, let key, let position):
            try requireDynamic(base, "'.\(key)'", at: position)
            return .dynamic
        case .index(let base, let key, let position):
            try requireDynamic(base, "'[…]'", at: position)
            let k = try type(of: key)
            guard k == .long || k == .string || k == .dynamic else {
                throw LogQueryError(.type, at: key.start, "an index is a long or a string, found \(k.rawValue)")
            }
            return .dynamic
        case .searchTerm(_, let column, _):
            if let column { _ = try schema.column(column.text, at: column.position) }
            return .bool
        case .call(let function, let arguments, let position):
            if function.isAggregate {
                throw LogQueryError(.type, at: position, "\(function.rawValue)() is an aggregation; use it in summarize, e.g. summarize \(function.rawValue)(…) by Column")
            }
            var types: [LogType] = []
            for argument in arguments { types.append(try type(of: argument)) }
            return try FunctionTypes.result(of: function, types, arguments, at: position)
        }
    }

    /// Whether `==`, `!=` and `in` may compare the two types.
    static func comparable(_ a: LogType, _ b: LogType) -> Bool {
        a == b || (a.isNumeric && b.isNumeric) || a == .dynamic || b == .dynamic
    }

    private func binaryType(_ op: BinaryOperator, _ l: LogType, _ r: LogType, at position: Int) throws(LogQueryError) -> LogType {
        switch op.kind {
        case .string:
            return .bool
        case .equality, .ordering:
            guard Self.comparable(l, r) else {
                throw LogQueryError(.type, at: position, "cannot compare \(l.rawValue) with \(r.rawValue) using '\(op.rawValue)'" + Self.hint(l, r))
            }
            return .bool
        case .arithmetic:
            if let t = Self.arithmeticType(op, l, r) { return t }
            var message = "cannot apply '\(op.rawValue)' to \(l.rawValue) and \(r.rawValue)"
            if l == .dynamic || r == .dynamic { message += "; convert dynamic values first with tolong(), todouble() or tostring()" }
            throw LogQueryError(.type, at: position, message)
        }
    }

    /// Kusto's arithmetic: numbers, datetime ± timespan, datetime - datetime, timespan scaling.
    static func arithmeticType(_ op: BinaryOperator, _ l: LogType, _ r: LogType) -> LogType? {
        switch (op, l, r) {
        case (_, .long, .long): .long
        case (_, _, _) where l.isNumeric && r.isNumeric: .real
        case (.add, .datetime, .timespan), (.add, .timespan, .datetime), (.subtract, .datetime, .timespan): .datetime
        case (.subtract, .datetime, .datetime), (.add, .timespan, .timespan), (.subtract, .timespan, .timespan): .timespan
        case (.multiply, .timespan, _) where r.isNumeric: .timespan
        case (.multiply, _, .timespan) where l.isNumeric: .timespan
        case (.divide, .timespan, _) where r.isNumeric: .timespan
        case (.divide, .timespan, .timespan): .real
        default: nil
        }
    }

    /// The usual mistake: ResultType is a string, so its codes are written in quotes.
    private static func hint(_ l: LogType, _ r: LogType) -> String {
        if Set([l, r]) == [.string, .long] || Set([l, r]) == [.string, .real] { return "; write the number in quotes to compare strings" }
        if Set([l, r]) == [.string, .datetime] { return "; write the time as datetime(2026-11-25T07:00:00Z)" }
        return ""
    }

    private func requireDynamic(_ base: LogExpression, _ what: String, at position: Int) throws(LogQueryError) {
        let t = try type(of: base)
        guard t == .dynamic else {
            throw LogQueryError(.type, at: position, "\(what) needs a dynamic value, found \(t.rawValue); parse JSON text with parse_json()")
        }
    }
}
