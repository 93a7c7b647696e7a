import LogQuery
import Testing

/// Queries print back as one line that parses to a query printing the same; the printer keeps
/// only the parentheses the structure needs.
@Suite("Parsing and printing")
struct LogQueryParserTests {
    @Test("printed queries", arguments: [
        ("search *\n| where ( Type == \"AzureDiagnostics\" and ResourceType == \"IOTHUBS\")\n| where ( Category == \"Connections\" and Level == \"Error\")",
         "search * | where Type == \"AzureDiagnostics\" and ResourceType == \"IOTHUBS\" | where Category == \"Connections\" and Level == \"Error\""),
        ("AzureDiagnostics // all records\n| WHERE TimeGenerated > ago(1h)  | summarize n=count() by bin(TimeGenerated,5m) , Level",
         "AzureDiagnostics | where TimeGenerated > ago(1h) | summarize n = count() by bin(TimeGenerated, 5m), Level"),
        ("T | extend x = (a + b) * c, y = a - (b - c), z = (a - b) - c, w = -(a + 1)",
         "T | extend x = (a + b) * c, y = a - (b - c), z = a - b - c, w = -(a + 1)"),
        ("T | where (a == 1 or b == 2) and not(c has 'x') or d in ('p', \"q\") and e !between (1 .. 2.5)",
         "T | where (a == 1 or b == 2) and not(c has \"x\") or d in (\"p\", \"q\") and e !between (1 .. 2.5)"),
        ("T | where t between (datetime(2026-11-25 07:00:00.1234567) .. 90s) and d < 1.5h and e > time(1.02:03:04)",
         "T | where t between (datetime(2026-11-25T07:00:00.1234567Z) .. 90s) and d < 90m and e > 93784s"),
        ("T | sort by a, b asc nulls last | top 3 by c desc | take 5 | limit 2",
         "T | order by a desc, b asc nulls last | top 3 by c desc | take 5 | take 2"),
        ("T | project-away a, ['b c'] | project-rename x = y | distinct * | count",
         "T | project-away a, [\"b c\"] | project-rename x = y | distinct * | count"),
        ("search in (A, B) \"err*\" and Level:\"x\" | search *", "search in (A, B) \"err*\" and Level:\"x\" | search *"),
        ("union withsource = S A, ['where'] | summarize arg_max(t, *), make_set(x) by k",
         "union withsource=S A, [\"where\"] | summarize arg_max(t, *), make_set(x) by k"),
        ("print x = parse_json(p).a[0].b, iff(true, 1e-5, 2.0), todynamic(@'c:\\dir')", "print x = parse_json(p).a[0].b, iif(true, 1e-05, 2.0), parse_json(\"c:\\\\dir\")"),
    ])
    func printed(_ query: String, _ expected: String) throws {
        let parsed = try LogQuery(parsing: query)
        #expect(parsed.description == expected)
        let again = try LogQuery(parsing: parsed.description)
        #expect(again.description == expected)
    }

    @Test("the same query parses and runs the same after printing")
    func sameResult() throws {
        let query = "search * | where Type == 'AzureDiagnostics' | extend s = DurationMs / 1000.0 | summarize c = count(), avg(s) by Level, bin(TimeGenerated, 10m) | order by c"
        let printed = try LogQuery(parsing: query).description
        #expect(try Fixture.run(query) == Fixture.run(printed))
    }
}
