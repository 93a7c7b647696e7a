#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A parsed Kusto (KQL) query over in-memory tables: a source (`TableName`, `search`, `union`,
/// `print`) and tabular operators after `|`, run by `run(on:now:)`. The subset Log Analytics
/// users write against AzureDiagnostics and AzureMetrics; see `LogQuery+Run.swift`.
/// https://learn.microsoft.com/kusto/query/
public struct LogQuery: Equatable, Sendable {
    /// Longer queries are refused, so no input can make the parser work long.
    public static let maxLength = 16_384
    /// Parentheses, calls, unary minus, member access and operator chains nest at most this
    /// deep, so no input can exhaust the stack of the parser, the evaluator or the printer.
    public static let maxDepth = 64

    var source: Source
    var operators: [TabularOperator]

    /// Parses query text. Keywords, operators and function names are read in any case; table
    /// and column names are case-sensitive, as in Kusto. `maxLength` is there for tests and
    /// the fuzzer; the hub keeps the default.
    public init(parsing text: String, maxLength: Int = LogQuery.maxLength) throws(LogQueryError) {
        var parser = try Parser(text, maxLength: maxLength)
        self = try parser.parseQuery()
    }

    init(source: Source, operators: [TabularOperator]) {
        self.source = source
        self.operators = operators
    }
}

/// A table or column name as written, and where.
struct Name: Equatable, Sendable {
    var text: String
    var position: Int
}

enum Source: Equatable, Sendable {
    case table(Name)
    /// `search [in (T, …)] predicate`: all tables when `tables` is nil, every row when
    /// `predicate` is nil (`search *`).
    case search(tables: [Name]?, predicate: LogExpression?)
    /// `union [withsource=C] T, …`; all tables when `tables` is nil (`union *`).
    case union(withSource: Name?, tables: [Name]?)
    /// `print x = 1, …`: one row.
    case print([NamedExpression])
}

/// `name = expression`, or an expression whose column name is derived from it.
struct NamedExpression: Equatable, Sendable {
    var name: Name?
    var expression: LogExpression
}

struct SortKey: Equatable, Sendable {
    var expression: LogExpression
    var ascending: Bool
    /// As written; nil is Kusto's default: nulls first ascending, last descending.
    var nullsFirst: Bool?

    var effectiveNullsFirst: Bool { nullsFirst ?? ascending }
}

struct Rename: Equatable, Sendable {
    var new: Name
    var old: Name
}

enum TabularOperator: Equatable, Sendable {
    case `where`(LogExpression)
    /// `search` after a pipe: the predicate over the input's columns; nil for `*`.
    case search(LogExpression?)
    case project([NamedExpression])
    case projectAway([Name])
    case projectRename([Rename])
    case extend([NamedExpression])
    case summarize(aggregates: [NamedExpression], by: [NamedExpression], position: Int)
    case sort([SortKey])
    case take(Int)
    case top(Int, SortKey)
    /// nil for `distinct *`.
    case distinct([Name]?)
    case count
}
