import LogQuery
import Testing

/// Bad queries are refused with the position (in Unicode scalars) of the offending token and a
/// message saying what was expected; runtime errors point at the unknown name or the operator.
@Suite("Query errors")
struct LogQueryErrorTests {
    @Test("the error renders as the query line, a caret under the position, and the message")
    func rendering() throws {
        let query = "search * | whre Level == \"Error\""
        let error = try #require(Fixture.error(query))
        #expect(error.kind == .syntax)
        #expect(error.position == 11)
        #expect(error.render(query: query) == """
            search * | whre Level == "Error"
                       ^
            expected a tabular operator (where, project, project-away, project-rename, extend, summarize, order by, sort by, take, limit, top, distinct, count, search), found 'whre'
            """)
    }

    @Test("on a multi-line query only the offending line is shown, tabs kept")
    func multiLine() throws {
        let query = "AzureDiagnostics\n| where Level == \"Error\"\n|\tsummarize count() by Levl\n| take 5"
        let error = try #require(Fixture.error(query))
        #expect(error == LogQueryError(.unknownColumn, at: 65, "unknown column 'Levl'; did you mean 'Level'?"))
        #expect(error.render(query: query) == "|\tsummarize count() by Levl\n \t" + String(repeating: " ", count: 21) + "^\nunknown column 'Levl'; did you mean 'Level'?")
    }

    @Test("end of query is reported just after the last token")
    func endOfQuery() throws {
        let query = "AzureDiagnostics\n| where   // nothing yet\n"
        let error = try #require(Fixture.error(query))
        #expect(error.position == 24)
        #expect(error.render(query: query) == """
            | where   // nothing yet
                   ^
            expected a column, a value or a function call, found end of query
            """)
    }

    @Test("syntax errors", arguments: [
        ("", 0, "expected a table name, search, union or print, found end of query"),
        ("where Level == \"Error\"", 0, "expected a table name, search, union or print, found 'where'"),
        ("AzureDiagnostics | where Level = \"Error\"", 31, "expected '|' or end of query (compare with ==), found '='"),
        ("AzureDiagnostics | where Level == \"Error", 34, "unterminated string: expected a closing \""),
        ("AzureDiagnostics | where Level == 'a\\", 36, "invalid escape sequence '\\' in a string (allowed: \\' \\\" \\\\ \\/ \\n \\r \\t \\uXXXX)"),
        ("AzureDiagnostics | where Level == 'a\\q'", 36, "invalid escape sequence '\\q' in a string (allowed: \\' \\\" \\\\ \\/ \\n \\r \\t \\uXXXX)"),
        ("AzureDiagnostics | where TimeGenerated > ago(1x)", 45, "invalid number '1x' (a timespan is a number and a unit: d, h, m, s, ms, microsecond, tick)"),
        ("AzureDiagnostics | where TimeGenerated > datetime(2026-13-01)", 41, "invalid datetime '2026-13-01'; write datetime(2026-11-25T07:00:00Z)"),
        ("AzureDiagnostics | where DurationMs > 99999999999999999999", 38, "number '99999999999999999999' is too large for a long"),
        ("AzureDiagnostics | where foo(1)", 25, "unknown function 'foo'"),
        ("AzureDiagnostics | where bin(DurationMs)", 25, "bin() takes 2 arguments, found 1"),
        ("AzureDiagnostics | take -1", 24, "expected a number of rows, found '-'"),
        ("AzureDiagnostics | order DurationMs", 25, "expected 'by' after order, found 'DurationMs'"),
        ("AzureDiagnostics | top 5 DurationMs", 25, "expected 'by' after top 5, found 'DurationMs'"),
        ("AzureDiagnostics | summarize Level", 29, "expected an aggregation (count(), countif(), dcount(), sum(), avg(), min(), max(), any(), make_set(), make_list(), arg_max(), arg_min()), found 'Level'"),
        ("AzureDiagnostics | project-keep Level", 19, "expected a tabular operator (where, project, project-away, project-rename, extend, summarize, order by, sort by, take, limit, top, distinct, count, search), found 'project-keep'"),
        ("AzureDiagnostics | where Level in \"Error\"", 34, "expected '(' starting a list of values, found '\"Error\"'"),
        ("AzureDiagnostics | where x between (1, 2)", 37, "expected '..' between the bounds, found ','"),
        ("AzureDiagnostics | where Level == \"Error\" # 1", 42, "unexpected character '#'"),
        ("AzureDiagnostics | where Level == \"é\" #", 38, "unexpected character '#'"),
        ("AzureDiagnostics | project by", 27, "expected a column, a value or a function call, found 'by'"),
    ])
    func syntaxError(_ query: String, _ position: Int, _ message: String) {
        let error = Fixture.error(query)
        #expect(error?.kind == .syntax)
        #expect(error?.position == position)
        #expect(error?.message == message)
    }

    @Test("errors found when the query runs", arguments: [
        ("AzureDiagnostic | take 1", LogQueryError.Kind.unknownTable, 0, "unknown table 'AzureDiagnostic'; the tables are AzureDiagnostics, AzureMetrics"),
        ("search in (AzureMetrics, azurediagnostics) *", .unknownTable, 25, "unknown table 'azurediagnostics'; did you mean 'AzureDiagnostics'?"),
        ("AzureDiagnostics | where Levl == \"Error\"", .unknownColumn, 25, "unknown column 'Levl'; did you mean 'Level'?"),
        ("AzureDiagnostics | project DeviceId, Nope", .unknownColumn, 37, "unknown column 'Nope'"),
        ("AzureDiagnostics | summarize count() by deviceid", .unknownColumn, 40, "unknown column 'deviceid'; did you mean 'DeviceId'?"),
        ("AzureDiagnostics | project-away Nope", .unknownColumn, 32, "unknown column 'Nope'"),
        ("AzureDiagnostics | where ResultType == 404104", .type, 36, "cannot compare string with long using '=='; write the number in quotes to compare strings"),
        ("AzureDiagnostics | where TimeGenerated > \"2026-11-25\"", .type, 39, "cannot compare datetime with string using '>'; write the time as datetime(2026-11-25T07:00:00Z)"),
        ("AzureDiagnostics | extend x = Level + 1", .type, 36, "cannot apply '+' to string and long"),
        ("AzureDiagnostics | where Level", .type, 25, "where needs a bool condition, found string"),
        ("AzureDiagnostics | where count() > 1", .type, 25, "count() is an aggregation; use it in summarize, e.g. summarize count(…) by Column"),
        ("AzureDiagnostics | where properties_s.deviceId == \"d1\"", .type, 37, "'.deviceId' needs a dynamic value, found string; parse JSON text with parse_json()"),
        ("AzureDiagnostics | summarize sum(Level)", .type, 29, "sum() needs a number or a timespan, found string"),
        ("AzureDiagnostics | where ago(5) < TimeGenerated", .type, 29, "ago() needs a timespan as argument 1, found long"),
        ("AzureDiagnostics | project a = 1, a = 2", .type, 34, "column 'a' is named twice in project"),
        ("AzureDiagnostics | where Level == \"x\" and DurationMs", .type, 42, "'and' needs bool operands, found long"),
    ])
    func runtimeError(_ query: String, _ kind: LogQueryError.Kind, _ position: Int, _ message: String) {
        #expect(Fixture.error(query) == LogQueryError(kind, at: position, message))
    }

    @Test("unknown columns are reported even when there are no rows")
    func emptyTable() {
        let empty = ["T": LogTable(name: "T", columns: [LogColumn("a", .long)])]
        #expect(Fixture.error("T | where b > 1", empty) == LogQueryError(.unknownColumn, at: 10, "unknown column 'b'"))
        #expect(Fixture.error("T | summarize count() by b", empty)?.kind == .unknownColumn)
        #expect(Fixture.error("T | order by b", empty)?.kind == .unknownColumn)
    }

    @Test("queries are limited to 16384 characters")
    func length() throws {
        let padding = String(repeating: " ", count: LogQuery.maxLength - 16)
        _ = try LogQuery(parsing: "AzureDiagnostics" + padding)
        #expect(throws: LogQueryError(.limit, at: 16384, "query is longer than 16384 characters")) {
            try LogQuery(parsing: "AzureDiagnostics " + padding)
        }
    }

    @Test("nesting is limited to 64 levels: parentheses, calls, minus signs and operator chains")
    func depth() throws {
        func nested(_ n: Int) -> String { "T | where " + String(repeating: "(", count: n) + "a" + String(repeating: ")", count: n) }
        _ = try LogQuery(parsing: nested(64))
        #expect(throws: LogQueryError(.limit, at: 10 + 64, "query is nested more than 64 levels deep")) { try LogQuery(parsing: nested(65)) }
        #expect(throws: LogQueryError.self) { try LogQuery(parsing: nested(5000)) }
        #expect(throws: LogQueryError.self) { try LogQuery(parsing: "T | extend x = " + String(repeating: "-", count: 100) + "1") }
        #expect(throws: LogQueryError.self) { try LogQuery(parsing: "T | extend x = 1" + String(repeating: " + 1", count: 100)) }
        #expect(throws: LogQueryError.self) { try LogQuery(parsing: "T | extend x = " + String(repeating: "tostring(", count: 65) + "1" + String(repeating: ")", count: 65)) }
        // `and` and `or` chains are flat, so long lists of conditions are fine.
        _ = try LogQuery(parsing: "T | where " + Array(repeating: "a == 1", count: 500).joined(separator: " and "))
    }

    @Test("a lexical error after a syntax error is not reported first")
    func leftToRight() {
        #expect(Fixture.error("AzureDiagnostics | whre x == 'unterminated")?.position == 19)
    }

    @Test("strcat cannot build strings past 64 KiB")
    func stringLimit() {
        let query = "print s = strcat('0123456789abcdef')" + String(repeating: " | extend s = strcat(s, s)", count: 20)
        #expect(Fixture.error(query)?.kind == .limit)
    }
}
