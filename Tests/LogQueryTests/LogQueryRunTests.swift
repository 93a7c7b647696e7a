import Foundation
import LogQuery
import Testing

/// Queries run over the fixture's AzureDiagnostics and AzureMetrics, with exact results.
@Suite("Running queries")
struct LogQueryRunTests {
    /// The times (hh:mm:ss) of the AzureDiagnostics rows a condition keeps, in order.
    private func times(where condition: String) throws -> [String] {
        try Fixture.column("TimeGenerated", "AzureDiagnostics | where \(condition)").map { String($0.dropFirst(11).prefix(8)) }
    }

    @Test("the troubleshooting page's query returns exactly the Connections errors")
    func seedQuery() throws {
        let query = """
            search *
            | where ( Type == "AzureDiagnostics" and ResourceType == "IOTHUBS")
            | where ( Category == "Connections" and Level == "Error")
            """
        let result = try Fixture.run(query)
        #expect(result.name == "PrimaryResult")
        #expect(result.columns.first == LogColumn("$table", .string))
        #expect(result.columns.map(\.name) == ["$table"] + Fixture.diagnosticsColumns.map(\.name)
            + ["MetricName", "Total", "Count", "Minimum", "Maximum", "Average", "TimeGrain"])
        #expect(try Fixture.column("$table", query) == ["AzureDiagnostics", "AzureDiagnostics", "AzureDiagnostics"])
        #expect(try Fixture.column("TimeGenerated", query) == ["2026-11-25T07:01:30Z", "2026-11-25T07:02:00.25Z", "2026-11-25T07:20:00Z"])
        #expect(try Fixture.column("ResultType", query) == ["404104", "401003", "404104"])
        #expect(try Fixture.column("OperationName", query) == ["deviceDisconnect", "deviceConnect", "deviceDisconnect"])
        #expect(result.rows.allSatisfy { $0[result.columns.firstIndex { $0.name == "MetricName" }!] == .null })
    }

    @Test("search * is the union of all tables, each row naming its table")
    func searchAll() throws {
        #expect(try Fixture.cells("search * | summarize count() by $table") == [["AzureDiagnostics", "7"], ["AzureMetrics", "2"]])
        #expect(try Fixture.cells("search \"IotHubUnauthorized\" | project DeviceId") == [["d2"]])
        #expect(try Fixture.cells("search in (AzureMetrics) \"connectedDeviceCount\" | project MetricName, Count") == [["connectedDeviceCount", "1"]])
        #expect(try Fixture.cells("search \"*token*\" and Level == \"Error\" | project DeviceId") == [["d2"]])
        #expect(try Fixture.cells("search OperationName:\"deviceConnect\" | count") == [["3"]])
        #expect(try Fixture.cells("search \"pack*\" | count") == [["2"]])
        #expect(try Fixture.cells("AzureMetrics | search \"d2c\" | project MetricName") == [["d2c.telemetry.ingress.success"]])
    }

    @Test("a column of different types in two tables becomes one column per type")
    func unionTypes() throws {
        let a = LogTable(name: "A", columns: [LogColumn("x", .long), LogColumn("a", .string)], rows: [[.long(1), .string("only a")]])
        let b = LogTable(name: "B", columns: [LogColumn("x", .string)], rows: [[.string("one")]])
        let result = try LogQuery(parsing: "search *").run(on: ["A": a, "B": b], now: Fixture.now)
        #expect(result.columns == [LogColumn("$table", .string), LogColumn("x_long", .long), LogColumn("x_string", .string), LogColumn("a", .string)])
        #expect(result.rows == [[.string("A"), .long(1), .null, .string("only a")], [.string("B"), .null, .string("one"), .null]])
        let union = try LogQuery(parsing: "union withsource=Source B, A | project Source, x_string").run(on: ["A": a, "B": b], now: Fixture.now)
        #expect(union.rows == [[.string("B"), .string("one")], [.string("A"), .null]])
    }

    @Test("summarize count() by ResultType, with Kusto's column names")
    func summarizeByResultType() throws {
        let result = try Fixture.run("AzureDiagnostics | where Level == \"Error\" | summarize count() by ResultType")
        #expect(result.columns == [LogColumn("ResultType", .string), LogColumn("count_", .long)])
        #expect(result.rows.map { $0.map(\.text) } == [["404104", "2"], ["401003", "1"], ["404103", "1"]])
    }

    @Test("summarize by bin(TimeGenerated, 5m) counts per five minutes")
    func binFiveMinutes() throws {
        let result = try Fixture.run("AzureDiagnostics | summarize n = count() by bin(TimeGenerated, 5m)")
        #expect(result.columns == [LogColumn("TimeGenerated", .datetime), LogColumn("n", .long)])
        #expect(result.rows.map { $0.map(\.text) } == [
            ["2026-11-25T07:00:00Z", "4"], ["2026-11-25T07:05:00Z", "1"], ["2026-11-25T07:20:00Z", "1"], ["2026-11-25T07:55:00Z", "1"],
        ])
    }

    @Test("aggregations and their default names")
    func aggregations() throws {
        let result = try Fixture.run("""
            AzureDiagnostics | summarize count(), dcount(DeviceId), max(DurationMs), avg(DurationMs), sum(DurationMs),
              min(TimeGenerated), errors = countif(Level == "Error") by Category
            """)
        #expect(result.columns.map(\.description) == [
            "Category:string", "count_:long", "dcount_DeviceId:long", "max_DurationMs:long", "avg_DurationMs:real",
            "sum_DurationMs:long", "min_TimeGenerated:datetime", "errors:long",
        ])
        #expect(result.rows.map { $0.map(\.text) } == [
            ["Connections", "6", "2", "240000", "131670.66666666666", "395012", "2026-11-25T07:00:00Z", "3"],
            ["DirectMethods", "1", "1", "", "", "", "2026-11-25T07:04:59Z", "1"],
        ])
        #expect(try Fixture.cells("AzureDiagnostics | where Level == \"None\" | summarize count(), max(DurationMs)") == [["0", ""]])
        #expect(try Fixture.cells("AzureDiagnostics | where Level == \"None\" | summarize count() by Level") == [])
        #expect(try Fixture.cells("AzureDiagnostics | summarize make_set(Level) by DeviceId") == [
            ["d1", "[\"Information\",\"Error\"]"], ["d2", "[\"Error\",\"Information\"]"], ["d3", "[\"Error\"]"],
        ])
        #expect(try Fixture.cells("AzureDiagnostics | summarize by Level") == [["Information"], ["Error"]])
    }

    @Test("arg_max returns the latest row per device")
    func argMax() throws {
        let result = try Fixture.run("AzureDiagnostics | summarize arg_max(TimeGenerated, OperationName, Level) by DeviceId")
        #expect(result.columns.map(\.name) == ["DeviceId", "TimeGenerated", "OperationName", "Level"])
        #expect(result.rows.map { $0.map(\.text) } == [
            ["d1", "2026-11-25T07:55:00Z", "deviceConnect", "Information"],
            ["d2", "2026-11-25T07:06:00Z", "deviceDisconnect", "Information"],
            ["d3", "2026-11-25T07:04:59Z", "directMethodInvoke", "Error"],
        ])
        let all = try Fixture.run("AzureDiagnostics | summarize arg_min(TimeGenerated, *) by DeviceId")
        #expect(all.columns.map(\.name) == ["DeviceId"] + Fixture.diagnosticsColumns.map(\.name).filter { $0 != "DeviceId" })
        #expect(all.rows.map { $0[6].text } == ["Information", "Error", "Error"])
    }

    @Test("where: comparisons, and, or, not() and null strings")
    func whereComparisons() throws {
        #expect(try times(where: "Level == \"Error\" and Category == \"Connections\"") == ["07:01:30", "07:02:00", "07:20:00"])
        #expect(try times(where: "Level == \"error\"") == [])
        #expect(try times(where: "Level =~ \"error\" and not(Category == \"Connections\")") == ["07:04:59"])
        #expect(try times(where: "Category == \"DirectMethods\" or DurationMs > 100000") == ["07:04:59", "07:06:00"])
        #expect(try times(where: "DurationMs <= 60000") == ["07:20:00"])
        #expect(try times(where: "DurationMs != 60000") == ["07:01:30", "07:06:00"])
        #expect(try times(where: "ResultType != \"\" and Level !~ \"ERROR\"") == [])
        #expect(try times(where: "TimeGenerated >= datetime(2026-11-25T07:20:00Z)") == ["07:20:00", "07:55:00"])
    }

    @Test("where: has, contains, startswith, endswith and their negations")
    func stringOperators() throws {
        #expect(try times(where: "ResultDescription has \"keep\"") == ["07:01:30", "07:20:00"])
        #expect(try times(where: "ResultDescription has \"DEVICENOTONLINE\"") == ["07:04:59"])
        #expect(try times(where: "ResultDescription has \"Remote\"") == [])
        #expect(try times(where: "ResultDescription contains \"remote\"") == ["07:01:30", "07:20:00"])
        #expect(try times(where: "ResultDescription contains_cs \"remote\"") == [])
        #expect(try times(where: "ResultDescription has_cs \"SAS\"") == ["07:02:00"])
        #expect(try times(where: "Level == \"Error\" and ResultDescription !has \"keep\"") == ["07:02:00", "07:04:59"])
        #expect(try times(where: "Level == \"Error\" and ResultDescription !contains \"REMOTELY\"") == ["07:02:00", "07:04:59"])
        #expect(try times(where: "ResultDescription startswith \"device\"") == ["07:01:30", "07:04:59", "07:20:00"])
        #expect(try times(where: "ResultDescription endswith \"EXPIRED\"") == ["07:02:00"])
        #expect(try times(where: "ResultDescription hasprefix \"unauth\"") == [])
        #expect(try times(where: "ResultDescription hassuffix \"unauthorized\"") == ["07:02:00"])
    }

    @Test("where: in, !in, in~, has_any and between")
    func lists() throws {
        #expect(try times(where: "ResultType in (\"401003\", \"404103\")") == ["07:02:00", "07:04:59"])
        #expect(try times(where: "Level == \"Error\" and ResultType !in (\"404104\")") == ["07:02:00", "07:04:59"])
        #expect(try times(where: "Protocol in~ (\"MQTT\")").count == 5)
        #expect(try times(where: "ResultDescription has_any (\"token\", \"connected\")") == ["07:02:00", "07:04:59"])
        #expect(try times(where: "DurationMs between (60000 .. 95012)") == ["07:01:30", "07:20:00"])
        #expect(try times(where: "DurationMs !between (60000 .. 95012)") == ["07:06:00"])
        #expect(try times(where: "TimeGenerated between (datetime(2026-11-25T07:01:30Z) .. 5m)") == ["07:01:30", "07:02:00", "07:04:59", "07:06:00"])
        #expect(try times(where: "TimeGenerated between (datetime(2026-11-25 07:10) .. datetime(2026-11-25 07:30))") == ["07:20:00"])
    }

    @Test("ago() and now() read the given now")
    func relativeTime() throws {
        #expect(try times(where: "TimeGenerated > ago(1h)").count == 6)
        #expect(try times(where: "TimeGenerated > ago(10m)") == ["07:55:00"])
        #expect(try times(where: "TimeGenerated < now() - 50m") == ["07:00:00", "07:01:30", "07:02:00", "07:04:59", "07:06:00"])
        #expect(try Fixture.cells("print ago(1d), now(-90s), 1h + 30m, now() - datetime(2026-11-25T07:58:30Z)")
            == [["2026-11-24T08:00:00Z", "2026-11-25T07:58:30Z", "01:30:00", "00:01:30"]])
    }

    @Test("isempty, isnotempty, isnull and isnotnull")
    func emptiness() throws {
        #expect(try times(where: "isempty(ResultType)") == ["07:00:00", "07:06:00", "07:55:00"])
        #expect(try times(where: "isnotempty(ResultType)").count == 4)
        #expect(try times(where: "isnull(DurationMs)") == ["07:00:00", "07:02:00", "07:04:59", "07:55:00"])
        #expect(try times(where: "isnotnull(DurationMs) and DurationMs > 90000") == ["07:01:30", "07:06:00"])
    }

    @Test("project, extend, project-away and project-rename")
    func projection() throws {
        let result = try Fixture.run("AzureDiagnostics | project DeviceId, Level, seconds = DurationMs / 1000 | take 2")
        #expect(result.columns == [LogColumn("DeviceId", .string), LogColumn("Level", .string), LogColumn("seconds", .long)])
        #expect(result.rows == [[.string("d1"), .string("Information"), .null], [.string("d1"), .string("Error"), .long(95)]])
        #expect(try Fixture.cells("""
            AzureDiagnostics
            | extend seconds = DurationMs / 1000.0, Device = tostring(parse_json(properties_s).deviceId)
            | where isnotnull(seconds)
            | project Device, seconds, strlen(Device), toupper(Device)
            """) == [["d1", "95.012", "2", "D1"], ["d2", "240", "2", "D2"], ["d1", "60", "2", "D1"]])
        let renamed = try Fixture.run("AzureMetrics | project-away Type, ResourceType, Total, Minimum, Maximum, Average | project-rename Metric = MetricName")
        #expect(renamed.columns.map(\.name) == ["TimeGenerated", "Metric", "Count", "TimeGrain"])
        let extended = try Fixture.run("AzureMetrics | extend Count = Count * 2, Column1 = 0, 1.5 | project Count, Column2")
        #expect(extended.rows == [[.long(2), .real(1.5)], [.long(6), .real(1.5)]])
    }

    @Test("order by and sort by: descending by default, nulls last when descending")
    func ordering() throws {
        #expect(try Fixture.column("DurationMs", "AzureDiagnostics | order by DurationMs") == ["240000", "95012", "60000", "", "", "", ""])
        #expect(try Fixture.column("DurationMs", "AzureDiagnostics | sort by DurationMs asc") == ["", "", "", "", "60000", "95012", "240000"])
        #expect(try Fixture.column("DurationMs", "AzureDiagnostics | order by DurationMs asc nulls last | take 2") == ["60000", "95012"])
        #expect(try Fixture.cells("AzureDiagnostics | sort by DeviceId asc, TimeGenerated desc | project DeviceId, OperationName | take 3")
            == [["d1", "deviceConnect"], ["d1", "deviceDisconnect"], ["d1", "deviceDisconnect"]])
    }

    @Test("take, limit, top, distinct and count")
    func rowOperators() throws {
        #expect(try Fixture.run("AzureDiagnostics | take 3").rows.count == 3)
        #expect(try Fixture.run("AzureDiagnostics | limit 0").rows.isEmpty)
        #expect(try Fixture.column("TimeGenerated", "AzureDiagnostics | top 1 by TimeGenerated") == ["2026-11-25T07:55:00Z"])
        #expect(try Fixture.column("DurationMs", "AzureDiagnostics | top 2 by DurationMs asc nulls last") == ["60000", "95012"])
        #expect(try Fixture.cells("AzureDiagnostics | distinct Category, Level")
            == [["Connections", "Information"], ["Connections", "Error"], ["DirectMethods", "Error"]])
        #expect(try Fixture.run("AzureMetrics | distinct *").rows.count == 2)
        let count = try Fixture.run("AzureDiagnostics | where Level == \"Error\" | count")
        #expect(count.columns == [LogColumn("Count", .long)])
        #expect(count.rows == [[.long(4)]])
    }

    @Test("operators and functions are read in any case; names are case-sensitive")
    func keywordCase() throws {
        #expect(try Fixture.cells("AzureDiagnostics | WHERE Level == \"Error\" AND DurationMs > 0 | Count") == [["2"]])
        #expect(Fixture.error("azurediagnostics | count")?.kind == .unknownTable)
    }

    @Test("expressions: arithmetic, conversions, iif, coalesce and dynamic access")
    func expressions() throws {
        #expect(try Fixture.cells("print 7 / 2, 7 / 2.0, 7 % 3, -(2 - 5) * 2, bin(17, 5), floor(2.5, 1), round(2.567, 2)")
            == [["3", "3.5", "1", "6", "15", "2", "2.57"]])
        #expect(try Fixture.cells("print tolong(\"42\"), toint(\"x\"), todouble(\"1.5\"), tostring(5m), todatetime(\"2026-11-25T07:00:00Z\")")
            == [["42", "", "1.5", "00:05:00", "2026-11-25T07:00:00Z"]])
        #expect(try Fixture.cells("print iif(1 > 2, \"a\", \"b\"), coalesce(\"\", \"c\"), strcat(\"a\", 1, true), substring(\"abcdef\", 2, 3)")
            == [["b", "c", "a1true", "cde"]])
        #expect(try Fixture.cells("print j = parse_json('{\"a\":{\"b\":[1,2,3]}}') | project j.a.b[1], array_length(j.a.b), j[\"a\"], isnull(j.z)")
            == [["2", "3", "{\"b\":[1,2,3]}", "true"]])
        #expect(try Fixture.cells("print 9223372036854775807 + 1, 1 / 0, 1.0 / 0") == [["", "", "Infinity"]])
        #expect(try Fixture.cells("print bin(datetime(2026-11-25T07:04:59Z), 1d), bin(90s, 1m), datetime(null)")
            == [["2026-11-25T00:00:00Z", "00:01:00", ""]])
    }

    @Test("results serialise as the Log Analytics table object")
    func json() throws {
        let result = try Fixture.run("AzureDiagnostics | where Level == \"Error\" | project TimeGenerated, DeviceId, DurationMs, Level, ok = DurationMs > 70000, d = 5m | take 2")
        #expect(result.jsonText == """
            {"name":"PrimaryResult","columns":[{"name":"TimeGenerated","type":"datetime"},{"name":"DeviceId","type":"string"},\
            {"name":"DurationMs","type":"long"},{"name":"Level","type":"string"},{"name":"ok","type":"bool"},{"name":"d","type":"timespan"}],\
            "rows":[["2026-11-25T07:01:30Z","d1",95012,"Error",true,"00:05:00"],["2026-11-25T07:02:00.25Z","d2",null,"Error",null,"00:05:00"]]}
            """)
    }

    @Test("an input row of the wrong width is padded or cut, not a crash")
    func raggedInput() throws {
        let table = LogTable(name: "T", columns: [LogColumn("a", .long), LogColumn("a", .string)], rows: [[.long(1)], [.long(2), .string("x"), .long(3)]])
        let result = try LogQuery(parsing: "T").run(on: ["T": table], now: Fixture.now)
        #expect(result.columns == [LogColumn("a", .long), LogColumn("a1", .string)])
        #expect(result.rows == [[.long(1), .null], [.long(2), .string("x")]])
    }
}
