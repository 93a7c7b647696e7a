import EdgeRoutes
import Testing

/// Every source and sink form, conditions with each operator and function, and the examples of
/// the IoT Edge and IoT Hub documentation; routes print back in a canonical form that parses
/// to the same route.
@Suite("Parsing routes")
struct RouteParserTests {
    @Test("sources", arguments: [
        ("/*", RouteSource.all),
        ("/messages/*", .messages),
        ("/messages", .messages),
        ("/messages/modules/*", .modules),
        ("/messages/modules/filter/*", .module("filter")),
        ("/messages/modules/filter", .module("filter")),
        ("/messages/modules/filter/outputs/*", .moduleOutputs("filter")),
        ("/messages/modules/filter/outputs/output1", .moduleOutput("filter", output: "output1")),
        ("/messages/modules/filter/outputs/output1/*", .moduleOutput("filter", output: "output1")),
        ("/MESSAGES/Modules/Filter/OUTPUTS/Out-1", .moduleOutput("Filter", output: "Out-1")),
        ("/twinChangeNotifications", .twinChangeNotifications),
        ("/twinchangenotifications/*", .twinChangeNotifications),
    ])
    func sources(_ path: String, _ source: RouteSource) throws {
        let route = try Fixture.route("FROM \(path) INTO $upstream")
        #expect(route.source == source)
        #expect(route.condition == nil)
    }

    @Test("sinks", arguments: [
        ("$upstream", RouteSink.upstream),
        ("$UPSTREAM", .upstream),
        ("BrokeredEndpoint(\"/modules/filter/inputs/input1\")", .moduleInput(moduleId: "filter", input: "input1")),
        ("brokeredendpoint('/modules/filter/inputs/input1')", .moduleInput(moduleId: "filter", input: "input1")),
        ("BrokeredEndpoint ( \"/Modules/Sink-A/Inputs/in.2\" )", .moduleInput(moduleId: "Sink-A", input: "in.2")),
    ])
    func sinks(_ text: String, _ sink: RouteSink) throws {
        #expect(try Fixture.route("FROM /messages/* INTO \(text)").sink == sink)
    }

    @Test("keywords in any case, SELECT * FROM, spaces and newlines")
    func keywords() throws {
        let route = try Fixture.route("select *\n\tfrom /messages/modules/a/outputs/* where x = 'y' and NOT IS_DEFINED($body.z) into $upstream")
        #expect(route.source == .moduleOutputs("a"))
        #expect(route.description == "FROM /messages/modules/a/outputs/* WHERE (x = 'y') AND (NOT IS_DEFINED($body.z)) INTO $upstream")
    }

    @Test("the documentation's routes", arguments: [
        // IoT Edge: module composition.
        "FROM /messages/* INTO $upstream",
        "FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO $upstream",
        "FROM /messages/modules/tempSensor/outputs/temperatureOutput INTO BrokeredEndpoint(\"/modules/filtermodule/inputs/input1\")",
        "FROM /messages/modules/filtermodule/outputs/output1 INTO $upstream",
        "FROM /messages/* WHERE $connectionModuleId = 'moduleA' INTO $upstream",
        "FROM /messages/modules/* WHERE $connectionModuleId != 'moduleA' INTO $upstream",
        // IoT Hub: message routing query syntax.
        "FROM /messages/* WHERE processingPath = 'hot' INTO $upstream",
        "FROM /messages/* WHERE processingPath = 'hot' AND verbose = 'true' INTO $upstream",
        "FROM /messages/* WHERE $contentEncoding = 'UTF-8' AND processingPath = 'hot' INTO $upstream",
        "FROM /messages/* WHERE $body.Weather.HistoricalData[0].Month = 'Feb' INTO $upstream",
        "FROM /messages/* WHERE $body.Weather.Temperature = 50 AND processingPath = 'hot' INTO $upstream",
        "FROM /messages/* WHERE length($body.Weather.Location.State) = 2 INTO $upstream",
        "FROM /messages/* WHERE $body.Weather.Temperature - 273 > 0 INTO $upstream",
        "FROM /messages/* WHERE STARTS_WITH($connectionDeviceId, 'sensor') INTO $upstream",
    ])
    func documented(_ text: String) throws {
        let route = try Fixture.route(text)
        let again = try Fixture.route(route.description)
        #expect(again.description == route.description)
        #expect(again.condition == route.condition)
    }

    @Test("operators and their precedence", arguments: [
        ("a = 'x' OR b = 'y' AND c = 'z'", "(a = 'x') OR ((b = 'y') AND (c = 'z'))"),
        ("NOT a = 'x'", "NOT (a = 'x')"),
        ("NOT NOT IS_DEFINED(a)", "NOT (NOT IS_DEFINED(a))"),
        ("$body.a + 2 * 3 >= 10", "($body.a + (2 * 3)) >= 10"),
        ("$body.a - 1 - 2 < 0", "(($body.a - 1) - 2) < 0"),
        ("$body.a % 2 <> 0", "($body.a % 2) != 0"),
        ("$body.a / -4 <= -0.5", "($body.a / -4) <= -0.5"),
        ("-$body.a > 1e3", "(-$body.a) > 1000"),
        ("$body.a > 0x1F", "$body.a > 31"),
        ("$body.a < .5", "$body.a < 0.5"),
        ("a || 'b' = 'xb'", "(a || 'b') = 'xb'"),
        ("$body.a ?? 1 = 1", "$body.a ?? (1 = 1)"),
        ("($body.a ?? 1) = 1", "($body.a ?? 1) = 1"),
        ("$body.flag = true OR $body.n = null OR $body.u = undefined", "($body.flag = true) OR ($body.n = null) OR ($body.u = undefined)"),
        ("{$contentType} = 'application/json' AND {$body.x} = 1", "({$contentType} = 'application/json') AND ({$body.x} = 1)"),
        ("a = 'it\\'s \\\\ \\u00e9'", "a = 'it\\'s \\\\ é'"),
        ("a = \"double \\\" quoted\"", "a = 'double \" quoted'"),
    ])
    func operators(_ condition: String, _ printed: String) throws {
        let route = try Fixture.route("FROM /* WHERE \(condition) INTO $upstream")
        #expect(route.condition?.description == printed)
        #expect(try Fixture.route(route.description).condition == route.condition)
    }

    @Test("every function", arguments: [
        "IS_DEFINED(a)", "IS_NULL($body.a)", "IS_STRING($body.a)", "IS_NUMBER($body.a)", "IS_BOOL($body.a)",
        "AS_NUMBER(a) > 30", "STARTS_WITH(a, 'x')", "ENDS_WITH(a, 'x')", "CONTAINS(a, 'x')", "INDEX_OF(a, 'x') = 2",
        "LOWER(a) = 'x'", "UPPER(a) = 'X'", "LENGTH(a) = 1", "CONCAT(a, 'b', $body.c) = 'abc'",
        "SUBSTRING(a, 1) = 'x'", "SUBSTRING(a, 1, 2) = 'xy'", "ABS($body.n) = 1", "CEILING($body.n) = 1", "FLOOR($body.n) = 1",
        "SIGN($body.n) = 1", "SQRT($body.n) = 1", "EXP($body.n) = 1", "POWER($body.n, 2) = 1", "SQUARE($body.n) = 1",
    ])
    func functions(_ condition: String) throws {
        let route = try Fixture.route("FROM /* WHERE \(condition) INTO $upstream")
        #expect(try Fixture.route(route.description).condition == route.condition)
        let name = condition.prefix { $0 != "(" }
        let lowered = name.lowercased() + condition.dropFirst(name.count)
        #expect(try Fixture.route("FROM /* WHERE \(lowered) INTO $upstream").condition == route.condition)
    }

    @Test("property names may hold '-' and '.', as in edgeHub")
    func names() throws {
        #expect(try Fixture.route("FROM /* WHERE alert-level = 'high' INTO $upstream").condition
                == .binary(.equal, .property("alert-level"), .literal(.string("high"))))
        #expect(try Fixture.route("FROM /* WHERE a.b = 'c' INTO $upstream").condition
                == .binary(.equal, .property("a.b"), .literal(.string("c"))))
    }

    @Test("the text and name are kept")
    func kept() throws {
        let route = try Route(parsing: "from /messages/*  into $upstream", name: "toCloud")
        #expect(route.name == "toCloud")
        #expect(route.text == "from /messages/*  into $upstream")
        #expect(route.description == "FROM /messages/* INTO $upstream")
    }
}
