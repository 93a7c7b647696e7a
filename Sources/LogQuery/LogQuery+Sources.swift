#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Source {
    /// The table the operators start from.
    func table(from tables: [String: LogTable], now: Date) throws(LogQueryError) -> LogTable {
        switch self {
        case .table(let name):
            return try Self.tables([name], in: tables)[0]
        case .search(let names, let predicate):
            let table = Self.union(try names.map { (n: [Name]) throws(LogQueryError) in try Self.tables(n, in: tables) } ?? Self.all(tables),
                                   sourceColumn: "$table")
            return try TabularOperator.search(predicate).apply(to: table, now: now)
        case .union(let withSource, let names):
            let chosen = try names.map { (n: [Name]) throws(LogQueryError) in try Self.tables(n, in: tables) } ?? Self.all(tables)
            return Self.union(chosen, sourceColumn: withSource?.text)
        case .print(let items):
            let empty = LogTable(name: "print", columns: [], rows: [[]])
            return try TabularOperator.project(empty, items, Evaluator(schema: Schema([]), now: now), numbering: ("print_", 0))
        }
    }

    private static func all(_ tables: [String: LogTable]) -> [LogTable] {
        tables.keys.sorted().map { normalised(tables[$0]!, name: $0) }
    }

    private static func tables(_ names: [Name], in tables: [String: LogTable]) throws(LogQueryError) -> [LogTable] {
        var found: [LogTable] = []
        for name in names {
            guard let table = tables[name.text] else {
                var message = "unknown table '\(name.text)'"
                if let same = tables.keys.first(where: { $0.lowercased() == name.text.lowercased() }) {
                    message += "; did you mean '\(same)'?"
                } else if !tables.isEmpty {
                    message += "; the tables are " + tables.keys.sorted().joined(separator: ", ")
                }
                throw LogQueryError(.unknownTable, at: name.position, message)
            }
            found.append(normalised(table, name: name.text))
        }
        return found
    }

    /// The table as the engine assumes tables are: unique column names (a repeated name gets a
    /// number) and one value per column in every row.
    private static func normalised(_ table: LogTable, name: String) -> LogTable {
        var names = ColumnNames()
        var result = table
        result.name = name
        result.columns = table.columns.map { LogColumn(names.claim($0.name), $0.type) }
        let width = table.columns.count
        if table.rows.contains(where: { $0.count != width }) {
            result.rows = table.rows.map { row in
                row.count >= width ? Array(row.prefix(width)) : row + Array(repeating: .null, count: width - row.count)
            }
        }
        return result
    }

    /// Kusto's outer union: every column of every table, in order of first appearance; a name
    /// that has different types in different tables becomes one column per type, named
    /// `Name_type` (`Count_long`, `Count_string`). Cells a table does not have are null. The
    /// source column, if any, comes first and holds each row's table name.
    static func union(_ tables: [LogTable], sourceColumn: String?) -> LogTable {
        var order: [String] = []
        var typesByName: [String: [LogType]] = [:]
        for table in tables {
            for column in table.columns {
                if typesByName[column.name] == nil { order.append(column.name) }
                if !(typesByName[column.name] ?? []).contains(column.type) { typesByName[column.name, default: []].append(column.type) }
            }
        }
        var names = ColumnNames()
        var columns: [LogColumn] = []
        if let sourceColumn { columns.append(LogColumn(names.claim(sourceColumn), .string)) }
        var indexOf: [LogColumn: Int] = [:]
        for name in order {
            let types = typesByName[name]!
            for type in types {
                indexOf[LogColumn(name, type)] = columns.count
                columns.append(LogColumn(names.claim(types.count == 1 ? name : name + "_" + type.rawValue), type))
            }
        }
        var rows: [[LogValue]] = []
        for table in tables {
            let targets = table.columns.map { indexOf[$0]! }
            for row in table.rows {
                var values = Array(repeating: LogValue.null, count: columns.count)
                if sourceColumn != nil { values[0] = .string(table.name) }
                for (value, target) in zip(row, targets) { values[target] = value }
                rows.append(values)
            }
        }
        return LogTable(name: "union", columns: columns, rows: rows)
    }
}
