#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension LogQuery {
    /// Runs the query over `tables` (by name, e.g. "AzureDiagnostics"); `now` is what `now()`
    /// and `ago()` read. Unknown tables and columns and type errors are `LogQueryError`s at the
    /// offending token, found before any row is read. The result is named "PrimaryResult".
    public func run(on tables: [String: LogTable], now: Date) throws(LogQueryError) -> LogTable {
        var table = try source.table(from: tables, now: now)
        for op in operators { table = try op.apply(to: table, now: now) }
        table.name = "PrimaryResult"
        return table
    }
}

extension TabularOperator {
    func apply(to table: LogTable, now: Date) throws(LogQueryError) -> LogTable {
        let schema = Schema(table.columns)
        let evaluator = Evaluator(schema: schema, now: now)
        var result = table
        switch self {
        case .where(let condition):
            result.rows = try Self.filter(table.rows, condition, "where", schema, evaluator)
        case .search(let predicate):
            if let predicate { result.rows = try Self.filter(table.rows, predicate, "search", schema, evaluator) }
        case .project(let items):
            result = try Self.project(table, items, evaluator)
        case .projectAway(let names):
            var removed = Set<Int>()
            for name in names { removed.insert(try schema.column(name.text, at: name.position).index) }
            let kept = table.columns.indices.filter { !removed.contains($0) }
            result.columns = kept.map { table.columns[$0] }
            result.rows = table.rows.map { row in kept.map { row[$0] } }
        case .projectRename(let renames):
            for rename in renames {
                let i = try Schema(result.columns).column(rename.old.text, at: rename.old.position).index
                if rename.new.text != rename.old.text, result.columns.contains(where: { $0.name == rename.new.text }) {
                    throw LogQueryError(.type, at: rename.new.position, "column '\(rename.new.text)' already exists")
                }
                result.columns[i].name = rename.new.text
            }
        case .extend(let items):
            for item in items { result = try Self.extend(result, item, now: now) }
        case .summarize(let aggregates, let groups, _):
            let aggregation = try Aggregation(aggregates: aggregates, by: groups, schema: schema)
            result.columns = aggregation.columns
            result.rows = try aggregation.run(table.rows, evaluator)
        case .sort(let keys):
            result.rows = try Self.sorted(table.rows, by: keys, schema, evaluator)
        case .take(let count):
            result.rows = Array(table.rows.prefix(count))
        case .top(let count, let key):
            result.rows = Array(try Self.sorted(table.rows, by: [key], schema, evaluator).prefix(count))
        case .distinct(let names):
            var indices = Array(table.columns.indices)
            if let names {
                indices = []
                for name in names { indices.append(try schema.column(name.text, at: name.position).index) }
            }
            var seen = Set<[LogValue]>()
            result.columns = indices.map { table.columns[$0] }
            result.rows = table.rows.compactMap { row in
                let values = indices.map { row[$0] }
                return seen.insert(values).inserted ? values : nil
            }
        case .count:
            result.columns = [LogColumn("Count", .long)]
            result.rows = [[.long(Int64(table.rows.count))]]
        }
        return result
    }

    /// The rows for which `condition` is true (not false or null).
    static func filter(_ rows: [[LogValue]], _ condition: LogExpression, _ what: String, _ schema: Schema,
                       _ evaluator: Evaluator) throws(LogQueryError) -> [[LogValue]] {
        let type = try TypeChecker(schema: schema).type(of: condition)
        guard type == .bool || type == .dynamic else {
            throw LogQueryError(.type, at: condition.start, "\(what) needs a bool condition, found \(type.rawValue)")
        }
        var kept: [[LogValue]] = []
        for row in rows where try evaluator.holds(condition, row) { kept.append(row) }
        return kept
    }

    /// `project` and `print`: only the listed columns, in order. Unnamed computed columns are
    /// `Column1`, … (`print_0`, … for print).
    static func project(_ table: LogTable, _ items: [NamedExpression], _ evaluator: Evaluator,
                        numbering: (prefix: String, start: Int) = ("Column", 1)) throws(LogQueryError) -> LogTable {
        let checker = TypeChecker(schema: evaluator.schema)
        var names = ColumnNames()
        var columns: [LogColumn] = []
        for (i, item) in items.enumerated() {
            let type = try checker.type(of: item.expression)
            let name = item.name == nil && item.expression.derivedName == nil
                ? names.claimNumbered(numbering.prefix, from: numbering.start + (numbering.prefix == "Column" ? 0 : i))
                : try names.claim(item, kind: "project")
            columns.append(LogColumn(name, type))
        }
        var rows: [[LogValue]] = []
        rows.reserveCapacity(table.rows.count)
        for row in table.rows {
            var values: [LogValue] = []
            for (item, column) in zip(items, columns) { values.append(try evaluator.evaluate(item.expression, row).converted(to: column.type)) }
            rows.append(values)
        }
        return LogTable(name: table.name, columns: columns, rows: rows)
    }

    /// One `extend` item: a new column at the end, or an existing one replaced in place.
    private static func extend(_ table: LogTable, _ item: NamedExpression, now: Date) throws(LogQueryError) -> LogTable {
        let schema = Schema(table.columns)
        let type = try TypeChecker(schema: schema).type(of: item.expression)
        var names = ColumnNames(taken: table.columns.map(\.name))
        let name = item.name?.text ?? item.expression.derivedName ?? names.claimNumbered()
        let evaluator = Evaluator(schema: schema, now: now)
        var result = table
        let target = schema.index(of: name)
        if let target { result.columns[target] = LogColumn(name, type) } else { result.columns.append(LogColumn(name, type)) }
        for r in result.rows.indices {
            let value = try evaluator.evaluate(item.expression, table.rows[r]).converted(to: type)
            if let target { result.rows[r][target] = value } else { result.rows[r].append(value) }
        }
        return result
    }

    /// Rows in the order of `keys`; ties keep their input order.
    static func sorted(_ rows: [[LogValue]], by keys: [SortKey], _ schema: Schema, _ evaluator: Evaluator) throws(LogQueryError) -> [[LogValue]] {
        let checker = TypeChecker(schema: schema)
        for key in keys { _ = try checker.type(of: key.expression) }
        var keyed: [(values: [LogValue], index: Int)] = []
        keyed.reserveCapacity(rows.count)
        for (i, row) in rows.enumerated() {
            var values: [LogValue] = []
            for key in keys { values.append(try evaluator.evaluate(key.expression, row)) }
            keyed.append((values, i))
        }
        keyed.sort { a, b in
            for (k, key) in keys.enumerated() {
                let (x, y) = (a.values[k], b.values[k])
                let (xNull, yNull) = (x.isNullForOrdering, y.isNullForOrdering)
                if xNull && yNull { continue }
                if xNull || yNull { return xNull == key.effectiveNullsFirst }
                let order = LogValue.order(x, y)
                if order != 0 { return key.ascending ? order < 0 : order > 0 }
            }
            return a.index < b.index
        }
        return keyed.map { rows[$0.index] }
    }
}
