import EdgeRoutes
import Testing

/// A set of named routes: one delivery per sink, priorities and TTLs, the twin's `routes` JSON.
@Suite("Route sets")
struct RouteSetTests {
    /// The IoT Edge design example: prioritised alert routes beside a catch-all route.
    static let example = """
        {
          "secCamAlerts": {"route": "FROM /messages/modules/SecCamMod/outputs/P0_Alerts INTO $upstream", "priority": 0, "timeToLiveSecs": 86400},
          "floorCamAlerts": {"route": "FROM /messages/modules/FloorCamMod/outputs/P0_Alerts INTO $upstream", "priority": 0, "timeToLiveSecs": 86400},
          "secCamData": {"route": "FROM /messages/modules/SecCamMod/outputs/P1_Data INTO $upstream", "priority": 1, "timeToLiveSecs": 1800},
          "upstream": "FROM /messages/* INTO $upstream",
          "toFilter": "FROM /messages/modules/SecCamMod/* INTO BrokeredEndpoint(\\"/modules/filter/inputs/in\\")"
        }
        """

    @Test("a message matched by several routes to one sink goes there once, with the best priority and its TTL")
    func duplicates() throws {
        let set = try RouteSet(json: Self.example, defaultTTL: 7200)
        #expect(set.entries.map(\.route.name) == ["floorCamAlerts", "secCamAlerts", "secCamData", "toFilter", "upstream"])
        #expect(set.match(Fixture.module("SecCamMod", output: "P0_Alerts")) == [
            Delivery(sink: .upstream, routeName: "secCamAlerts", priority: 0, ttl: 86400),
            Delivery(sink: .moduleInput(moduleId: "filter", input: "in"), routeName: "toFilter", priority: RouteSet.defaultPriority, ttl: 7200),
        ])
        #expect(set.match(Fixture.module("SecCamMod", output: "P1_Data")).first == Delivery(sink: .upstream, routeName: "secCamData", priority: 1, ttl: 1800))
        #expect(set.match(Fixture.device()) == [Delivery(sink: .upstream, routeName: "upstream", priority: RouteSet.defaultPriority, ttl: 7200)])
        #expect(set.match(Fixture.message(.twinChangeNotification(deviceId: "d", moduleId: nil))).isEmpty)
    }

    @Test("between equal priorities the longest TTL wins, then the first name")
    func ties() throws {
        let routes: [String: RouteSpec] = [
            "a": RouteSpec("FROM /messages/* INTO $upstream", priority: 2, ttl: 60),
            "b": RouteSpec("FROM /messages/* WHERE IS_DEFINED($connectionDeviceId) INTO $upstream", priority: 2, ttl: 600),
            "c": RouteSpec("FROM /* INTO $upstream", priority: 2, ttl: 600),
            "d": RouteSpec("FROM /messages/* INTO $upstream", priority: 3, ttl: 9999),
            "e": RouteSpec("FROM /messages/* WHERE missing = 'x' INTO $upstream", priority: 0),
        ]
        let set = try RouteSet(routes: routes, defaultTTL: 100)
        #expect(set.match(Fixture.device()) == [Delivery(sink: .upstream, routeName: "b", priority: 2, ttl: 600)])
    }

    @Test("priority defaults below 0–9; a TTL of 0 or none is the default TTL")
    func defaults() throws {
        let set = try RouteSet(routes: [
            "plain": RouteSpec("FROM /messages/* INTO $upstream"),
            "zero": RouteSpec("FROM /messages/* INTO BrokeredEndpoint('/modules/m/inputs/i')", priority: 9, ttl: 0),
        ], defaultTTL: 7200)
        #expect(set.entries.map(\.priority) == [RouteSet.defaultPriority, 9])
        #expect(set.entries.map(\.ttl) == [7200, 7200])
        #expect(set.match(Fixture.device()).map(\.routeName) == ["zero", "plain"])
    }

    @Test("the routes object: strings, objects, null and unknown keys")
    func json() throws {
        let set = try RouteSet(json: """
            {"r1": "FROM /messages/* INTO $upstream",
             "r2": {"route": "FROM /messages/modules/m/* INTO $upstream", "priority": null, "timeToLiveSecs": 30, "extra": [1, {"x": null}]}}
            """, defaultTTL: 10)
        #expect(set.entries.map(\.priority) == [RouteSet.defaultPriority, RouteSet.defaultPriority])
        #expect(set.entries.map(\.ttl) == [10, 30])
        #expect(try RouteSet(json: "{}", defaultTTL: 1).entries.isEmpty)
        // A repeated name keeps its last route, as Json.NET does.
        let repeated = try RouteSet(json: #"{"a": "FROM /* INTO $upstream", "a": {"route": "FROM /messages/* INTO $upstream", "priority": 4}}"#, defaultTTL: 1)
        #expect(repeated.entries.map { "\($0.route)/\($0.priority)" } == ["FROM /messages/* INTO $upstream/4"])
    }

    @Test("bad entries name the route", arguments: [
        (#"{"a": {"route": "FROM /* INTO $upstream", "priority": 10}}"#, "a", 0, "priority 10 is out of range: routes take 0 (highest) to 9"),
        (#"{"a": {"route": "FROM /* INTO $upstream", "priority": -1}}"#, "a", 0, "priority -1 is out of range: routes take 0 (highest) to 9"),
        (#"{"a": {"route": "FROM /* INTO $upstream", "priority": 1.5}}"#, "a", 0, "priority must be a whole number"),
        (#"{"a": {"route": "FROM /* INTO $upstream", "timeToLiveSecs": "60"}}"#, "a", 0, "timeToLiveSecs must be a whole number"),
        (#"{"a": {"route": "FROM /* INTO $upstream", "timeToLiveSecs": 4294967296}}"#, "a", 0, "timeToLiveSecs 4294967296 is out of range: 0 (the default) to 4294967295"),
        (#"{"a": {"priority": 1}}"#, "a", 0, "a route object needs \"route\": \"FROM … INTO …\""),
        (#"{"a": 5}"#, "a", 0, "a route is a string or an object with \"route\", \"priority\" and \"timeToLiveSecs\""),
        (#"{"ok": "FROM /* INTO $upstream", "z": "FROM /* INTO $sideways"}"#, "z", 13, "expected a sink, $upstream or BrokeredEndpoint(\"/modules/{moduleId}/inputs/{input}\"), found '$sideways'"),
    ])
    func badEntries(_ json: String, _ name: String, _ position: Int, _ message: String) throws {
        let error = try #require(throws: RouteError.self) { try RouteSet(json: json, defaultTTL: 1) }
        #expect(error.routeName == name)
        #expect(error.position == position)
        #expect(error.message == message)
    }

    @Test("malformed JSON is refused with its position in the JSON text", arguments: [
        ("", 0, "routes are not valid JSON: expected a JSON value, found end of text"),
        ("[]", 0, "routes must be a JSON object of route names to routes"),
        (#"{"a": "x",}"#, 10, "routes are not valid JSON: expected a quoted key"),
        (#"{"a": "x"} x"#, 11, "routes are not valid JSON: unexpected text after the JSON value"),
        (#"{"a": 'x'}"#, 6, "routes are not valid JSON: expected a JSON value, found '''"),
    ])
    func malformed(_ json: String, _ position: Int, _ message: String) throws {
        let error = try #require(throws: RouteError.self) { try RouteSet(json: json, defaultTTL: 1) }
        #expect(error.kind == .spec && error.routeName == nil)
        #expect(error.position == position)
        #expect(error.message == message)
    }

    @Test("deeply nested JSON is refused, not recursed into")
    func deepJSON() throws {
        let deep = "{\"a\": " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}"
        let error = try #require(throws: RouteError.self) { try RouteSet(json: deep, defaultTTL: 1) }
        #expect(error.message == "routes are not valid JSON: JSON nested more than 128 levels deep")
        var message = Fixture.device()
        message.body = Array(deep.utf8)
        message.contentType = "application/json"
        message.contentEncoding = "utf-8"
        #expect(try Fixture.holds("NOT IS_DEFINED($body.a)", message))
    }
}
