import Testing
import Twin
import TwinQuery

/// What queries parse to: clauses, precedence, literals and paths.
@Suite("Query parser")
struct QueryParserTests {
    private func field(_ path: String) -> QueryExpression { .field(FieldPath(path.split(separator: ".").map(String.init))) }
    private func equals(_ path: String, _ value: JSONValue) -> QueryExpression { .comparison(field(path), .equal, .literal(value)) }

    @Test("the documentation's filter parses to a flat AND of comparisons")
    func documentationFilter() throws {
        let query = try Query(parsing: """
            SELECT * FROM devices
              WHERE tags.location.region = 'US'
                AND properties.reported.telemetryConfig.sendFrequencyInSecs >= 60
            """)
        #expect(query == Query(selection: .all, source: .devices, condition: .and([
            equals("tags.location.region", "US"),
            .comparison(field("properties.reported.telemetryConfig.sendFrequencyInSecs"), .greaterOrEqual, .literal(60)),
        ])))
        #expect(query.itemType == .twin)
    }

    @Test("keywords, function names and the collection are case-insensitive; field names keep their case")
    func caseInsensitiveKeywords() throws {
        let query = try Query(parsing: "select deviceId as Id from DEVICES.Modules where is_defined(Tags.x) and not Tags.x in [1] group by deviceId")
        #expect(query == Query(
            selection: .items([.field(FieldPath(["deviceId"]), alias: "Id")]),
            source: .modules,
            condition: .and([.call(.isDefined, [field("Tags.x")]), .not(.membership(field("Tags.x"), [1], negated: false))]),
            groupBy: [FieldPath(["deviceId"])]))
        #expect(query.itemType == .raw)
    }

    @Test("AND binds tighter than OR, NOT tighter than AND but looser than a comparison")
    func precedence() throws {
        let query = try Query(parsing: "SELECT * FROM devices WHERE a = 1 OR NOT b = 2 AND c = 3 OR (d = 4 OR e = 5)")
        #expect(query.condition == .or([
            equals("a", 1),
            .and([.not(equals("b", 2)), equals("c", 3)]),
            .or([equals("d", 4), equals("e", 5)]),
        ]))
    }

    @Test("literals: both quotes, escapes, negative, exponent and hex numbers, booleans and null")
    func literals() throws {
        let query = try Query(parsing: #"SELECT * FROM devices WHERE a IN ["d\"q", 'it\'s', '\u00e9\uD83D\uDE00\n', -2.5e3, 0x1F, TRUE, false, Null, 7]"#)
        #expect(query.condition == .membership(field("a"), ["d\"q", "it's", "é😀\n", -2500, 31, true, false, .null, 7], negated: false))
    }

    @Test("comparison operators, <> as !=, NIN and NOT IN")
    func operators() throws {
        let query = try Query(parsing: "SELECT * FROM devices WHERE a<1 AND a<=2 AND a>3 AND a>=4 AND a!=5 AND a<>6 AND a NIN [] AND a NOT IN ['x']")
        #expect(query.condition == .and([
            .comparison(field("a"), .less, .literal(1)), .comparison(field("a"), .lessOrEqual, .literal(2)),
            .comparison(field("a"), .greater, .literal(3)), .comparison(field("a"), .greaterOrEqual, .literal(4)),
            .comparison(field("a"), .notEqual, .literal(5)), .comparison(field("a"), .notEqual, .literal(6)),
            .membership(field("a"), [], negated: true), .membership(field("a"), ["x"], negated: true),
        ]))
    }

    @Test("paths: $-names, bracketed keys, keywords after a dot, the devices. prefix kept as written")
    func paths() throws {
        let query = try Query(parsing: #"SELECT properties.desired.$version, tags['my key']["x.y"].from AS k FROM devices WHERE devices.tags.select = 1"#)
        #expect(query.selection == .items([
            .field(FieldPath(["properties", "desired", "$version"]), alias: nil),
            .field(FieldPath(["tags", "my key", "x.y", "from"]), alias: "k"),
        ]))
        #expect(query.condition == equals("devices.tags.select", 1))
        #expect(FieldPath(["devices", "tags", "x"]).keys(in: .devices) == ["tags", "x"])
        #expect(FieldPath(["devices", "modules", "moduleId"]).keys(in: .modules) == ["moduleId"])
        #expect(FieldPath(["devices", "modules", "moduleId"]).keys(in: .devices) == ["modules", "moduleId"])
    }

    @Test("TOP, COUNT() with and without an alias, GROUP BY over two fields")
    func aggregates() throws {
        let query = try Query(parsing: "SELECT TOP 10 tags.region AS r, capabilities.iotEdge, COUNT(), COUNT() AS n FROM devices GROUP BY tags.region, capabilities.iotEdge")
        #expect(query.top == 10)
        #expect(query.selection == .items([
            .field(FieldPath(["tags", "region"]), alias: "r"), .field(FieldPath(["capabilities", "iotEdge"]), alias: nil),
            .count(alias: nil), .count(alias: "n"),
        ]))
        #expect(query.groupBy == [FieldPath(["tags", "region"]), FieldPath(["capabilities", "iotEdge"])])
        #expect(query.isAggregate)
    }

    @Test("a query prints as canonical text that parses back to the same query", arguments: [
        ("select * from devices", "SELECT * FROM devices"),
        ("SELECT top 3 deviceId as id, COUNT() FROM devices.modules group by deviceId",
         "SELECT TOP 3 deviceId AS id, COUNT() FROM devices.modules GROUP BY deviceId"),
        ("SELECT * FROM devices WHERE (a = 1 OR b <> 'x') AND NOT (c IN [1, 'two'] AND d NOT IN [null])",
         "SELECT * FROM devices WHERE (a = 1 OR b != 'x') AND NOT (c IN [1, 'two'] AND d NIN [null])"),
        ("SELECT * FROM devices WHERE ((a = 1 AND b = 2)) AND (c = 3 OR d = 4) OR (e = 5 OR f = 6)",
         "SELECT * FROM devices WHERE (a = 1 AND b = 2) AND (c = 3 OR d = 4) OR (e = 5 OR f = 6)"),
        (#"SELECT * FROM devices WHERE tags["a b"].c = "it's\\" AND (x = 1) = true AND starts_with(deviceId, 'd')"#,
         #"SELECT * FROM devices WHERE tags['a b'].c = 'it\'s\\' AND (x = 1) = true AND STARTSWITH(deviceId, 'd')"#),
        ("SELECT * FROM devices WHERE a = 0x10 AND b = 1e20 AND c = -0.5 AND d = '\\u0001'",
         "SELECT * FROM devices WHERE a = 16 AND b = 1e+20 AND c = -0.5 AND d = '\\u0001'"),
    ])
    func printsCanonically(_ written: String, _ canonical: String) throws {
        let query = try Query(parsing: written)
        #expect(query.description == canonical)
        #expect(try Query(parsing: query.description) == query)
    }
}
