/// `summarize`: rows grouped by the `by` values (in order of first appearance), one output row
/// per group with the `by` columns first and then the aggregations. Without `by`, one row even
/// for no input (count 0, other aggregations null).
struct Aggregation {
    /// One aggregation item: its function and argument, the columns `arg_max`/`arg_min`
    /// return, and its output columns (one, or several for `arg_max`/`arg_min`).
    private struct Item {
        var function: LogFunction
        var argument: LogExpression?
        var returned: [Int] = []
        var columns: [LogColumn] = []
    }

    private let groups: [(expression: LogExpression, column: LogColumn)]
    private let items: [Item]

    init(aggregates: [NamedExpression], by: [NamedExpression], schema: Schema) throws(LogQueryError) {
        let checker = TypeChecker(schema: schema)
        var names = ColumnNames()
        var groups: [(LogExpression, LogColumn)] = []
        for group in by {
            let type = try checker.type(of: group.expression)
            groups.append((group.expression, LogColumn(try names.claim(group, kind: "by"), type)))
        }
        var items: [Item] = []
        for aggregate in aggregates {
            guard case .call(let function, let arguments, let position) = aggregate.expression else { continue }
            var item = Item(function: function, argument: arguments.first)
            let argumentType = try arguments.first.map { (e: LogExpression) throws(LogQueryError) in try checker.type(of: e) }
            let type = try Self.resultType(of: function, argumentType, at: position)
            let name = aggregate.name == nil ? names.claim(Self.defaultName(function, arguments.first)) : try names.claim(aggregate, kind: "summarize")
            item.columns = [LogColumn(name, type)]
            if function == .argMax || function == .argMin {
                let grouped = Set(groups.map(\.1.name))
                for argument in arguments.dropFirst() {
                    let chosen: [Int]
                    switch argument {
                    case .star:
                        chosen = schema.columns.indices.filter { i in
                            let column = schema.columns[i].name
                            return !grouped.contains(column) && arguments.first != .column(column, position: arguments[0].position)
                        }
                    case .column(let column, let at):
                        chosen = [try schema.column(column, at: at).index]
                    default:
                        throw LogQueryError(.type, at: argument.start, "\(function.rawValue)() returns columns: name them, or write *")
                    }
                    for i in chosen {
                        item.returned.append(i)
                        item.columns.append(LogColumn(names.claim(schema.columns[i].name), schema.columns[i].type))
                    }
                }
            }
            items.append(item)
        }
        self.groups = groups
        self.items = items
    }

    var columns: [LogColumn] { groups.map(\.column) + items.flatMap(\.columns) }

    func run(_ rows: [[LogValue]], _ evaluator: Evaluator) throws(LogQueryError) -> [[LogValue]] {
        var groupIndex: [[LogValue]: Int] = [:]
        var keys: [[LogValue]] = []
        var states: [[State]] = []
        if groups.isEmpty {
            keys.append([])
            states.append(items.map(State.init))
            groupIndex[[]] = 0
        }
        for row in rows {
            var key: [LogValue] = []
            for group in groups { key.append(try evaluator.evaluate(group.expression, row).converted(to: group.column.type)) }
            let g: Int
            if let existing = groupIndex[key] {
                g = existing
            } else {
                g = keys.count
                groupIndex[key] = g
                keys.append(key)
                states.append(items.map(State.init))
            }
            for (i, item) in items.enumerated() {
                let value = try item.argument.map { (e: LogExpression) throws(LogQueryError) in try evaluator.evaluate(e, row) } ?? .null
                states[g][i].add(value, row: row, item)
            }
        }
        return zip(keys, states).map { key, groupStates in
            var row = key
            for (state, item) in zip(groupStates, items) {
                row += zip(state.result(item), item.columns).map { $0.converted(to: $1.type) }
            }
            return row
        }
    }

    static func resultType(of function: LogFunction, _ argument: LogType?, at position: Int) throws(LogQueryError) -> LogType {
        switch function {
        case .count, .dcount: return .long
        case .countif:
            guard argument == .bool || argument == .dynamic else {
                throw LogQueryError(.type, at: position, "countif() needs a bool condition, found \(argument?.rawValue ?? "nothing")")
            }
            return .long
        case .sum, .avg:
            guard let argument, argument.isNumeric || argument == .timespan || argument == .dynamic else {
                throw LogQueryError(.type, at: position, "\(function.rawValue)() needs a number or a timespan, found \(argument?.rawValue ?? "nothing")")
            }
            if argument == .timespan { return .timespan }
            return function == .sum && argument == .long ? .long : .real
        case .makeSet, .makeList: return .dynamic
        default: return argument ?? .dynamic
        }
    }

    /// Kusto's names: `count_`, `dcount_DeviceId`, `avg_DurationMs`, `set_Level`, …; arg_max and
    /// arg_min name the maximised column after itself.
    private static func defaultName(_ function: LogFunction, _ argument: LogExpression?) -> String {
        let column = argument?.derivedName ?? ""
        switch function {
        case .count: return "count_"
        case .countif: return "countif_"
        case .makeSet: return "set_" + column
        case .makeList: return "list_" + column
        case .argMax, .argMin: return argument?.derivedName ?? (function == .argMax ? "max_" : "min_")
        default: return function.rawValue + "_" + column
        }
    }

    /// The running value of one aggregation in one group.
    private enum State {
        case count(Int64)
        case distinct(Set<LogValue>)
        case sum(LogValue)
        case average(total: Double, count: Int64)
        case extreme(LogValue)
        case first(LogValue)
        case set([LogDynamic], Set<LogDynamic>)
        case list([LogDynamic])
        case argExtreme(key: LogValue, returned: [LogValue])

        init(_ item: Item) {
            switch item.function {
            case .count, .countif: self = .count(0)
            case .dcount: self = .distinct([])
            case .sum: self = .sum(.null)
            case .avg: self = .average(total: 0, count: 0)
            case .min, .max: self = .extreme(.null)
            case .makeSet: self = .set([], [])
            case .makeList: self = .list([])
            case .argMax, .argMin: self = .argExtreme(key: .null, returned: item.returned.map { _ in .null })
            default: self = .first(.null)
            }
        }

        mutating func add(_ value: LogValue, row: [LogValue], _ item: Item) {
            switch self {
            case .count(let n):
                if item.function == .count || value.boolValue == true { self = .count(n + 1) }
            case .distinct(var seen):
                guard !value.isNull else { return }
                seen.insert(value.unwrapped)
                self = .distinct(seen)
            case .sum(let total):
                self = .sum(Self.add(total, value.unwrapped))
            case .average(let total, let count):
                let v = value.unwrapped
                guard let x = v.doubleValue ?? { if case .timespan(let t) = v { t } else { nil } }() else { return }
                self = .average(total: total + x, count: count + 1)
            case .extreme(let current):
                if value.isNullForOrdering { return }
                let order = LogValue.order(value, current)
                if current.isNull || (item.function == .min ? order < 0 : order > 0) { self = .extreme(value) }
            case .first(let current):
                if current.isNull, !value.isNull { self = .first(value) }
            case .set(var items, var seen):
                guard !value.isNull else { return }
                let d = LogDynamic(value)
                if seen.insert(d).inserted { items.append(d) }
                self = .set(items, seen)
            case .list(var items):
                guard !value.isNull else { return }
                items.append(LogDynamic(value))
                self = .list(items)
            case .argExtreme(let key, _):
                if value.isNullForOrdering { return }
                let order = LogValue.order(value, key)
                if key.isNull || (item.function == .argMin ? order < 0 : order > 0) {
                    self = .argExtreme(key: value, returned: item.returned.map { $0 < row.count ? row[$0] : .null })
                }
            }
        }

        func result(_ item: Item) -> [LogValue] {
            switch self {
            case .count(let n): [.long(n)]
            case .distinct(let seen): [.long(Int64(seen.count))]
            case .sum(let total): [total]
            case .average(let total, let count):
                [count == 0 ? .null : (item.columns[0].type == .timespan ? .timespan(total / Double(count)) : .real(total / Double(count)))]
            case .extreme(let value), .first(let value): [value]
            case .set(let items, _), .list(let items): [.dynamic(.array(items))]
            case .argExtreme(let key, let returned): [key] + returned
            }
        }

        /// A running sum: longs wrap as Kusto's do, timespans add, anything numeric else is real.
        private static func add(_ total: LogValue, _ value: LogValue) -> LogValue {
            switch (total, value) {
            case (_, .null): total
            case (.null, .long), (.null, .real), (.null, .timespan): value
            case (.long(let a), .long(let b)): .long(a &+ b)
            case (.timespan(let a), .timespan(let b)): .timespan(a + b)
            default: total.doubleValue.flatMap { a in value.doubleValue.map { .real(a + $0) } } ?? total
            }
        }
    }
}
