import EdgeRoutes
import Testing

/// Routes over messages: sources, properties, `$body` queries, three-valued logic.
@Suite("Matching messages")
struct RouteEvaluationTests {
    @Test("sources read the messages they name, module ids and outputs in any case")
    func sources() throws {
        let device = Fixture.device()
        let filterOut = Fixture.module("filter", output: "output1")
        let filterPlain = Fixture.module("filter", output: nil)
        let other = Fixture.module("sensor", output: "temperatureOutput")
        let twin = Fixture.message(.twinChangeNotification(deviceId: "edge1", moduleId: "filter"))
        let cases: [(String, [Bool])] = [
            ("/*", [true, true, true, true, true]),
            ("/messages/*", [true, true, true, true, false]),
            ("/messages/modules/*", [false, true, true, true, false]),
            ("/messages/modules/filter/*", [false, true, true, false, false]),
            ("/messages/modules/FILTER/*", [false, true, true, false, false]),
            ("/messages/modules/filter/outputs/*", [false, true, false, false, false]),
            ("/messages/modules/filter/outputs/output1", [false, true, false, false, false]),
            ("/messages/modules/filter/outputs/Output1", [false, true, false, false, false]),
            ("/messages/modules/filter/outputs/output2", [false, false, false, false, false]),
            ("/messages/modules/filt/*", [false, false, false, false, false]),
            ("/twinChangeNotifications", [false, false, false, false, true]),
        ]
        for (path, expected) in cases {
            let route = try Fixture.route("FROM \(path) INTO $upstream")
            let got = [device, filterOut, filterPlain, other, twin].map(route.matches)
            #expect(got == expected, "\(path)")
        }
    }

    @Test("application properties: strings, names exact or in any case, missing ones undefined")
    func properties() throws {
        let message = Fixture.device(properties: ["temperatureAlert": "true", "Level": "high", "temp": "31"])
        #expect(try Fixture.holds("temperatureAlert = 'true'", message))
        #expect(try Fixture.holds("level = 'high'", message))
        #expect(try !Fixture.holds("level = 'HIGH'", message))
        #expect(try Fixture.holds("AS_NUMBER(temp) > 30", message))
        #expect(try Fixture.holds("temp > '30'", message))  // ordinal string comparison
        #expect(try !Fixture.holds("temp > '4'", message))
        #expect(try !Fixture.holds("missing = 'x'", message))
        #expect(try !Fixture.holds("missing != 'x'", message))
        #expect(try !Fixture.holds("NOT (missing = 'x')", message))
        #expect(try Fixture.holds("NOT IS_DEFINED(missing)", message))
        #expect(try Fixture.holds("missing = 'x' OR Level = 'high'", message))
        #expect(try !Fixture.holds("missing = 'x' AND Level = 'high'", message))
        #expect(try Fixture.holds("(missing ?? 'dflt') = 'dflt'", message))
    }

    @Test("system properties, identity from the message's source")
    func systemProperties() throws {
        var message = Fixture.module("filter", output: "alerts")
        message.systemProperties["messageId"] = "m-1"
        message.systemProperties["correlationId"] = "c-1"
        message.systemProperties["userId"] = "u"
        message.systemProperties["connectionDeviceId"] = "spoofed"
        message.contentType = "text/plain"
        message.contentEncoding = "utf-8"
        for condition in [
            "$connectionDeviceId = 'edge1'", "$connectionModuleId = 'filter'", "$outputName = 'alerts'", "$messageId = 'm-1'",
            "$correlationId = 'c-1'", "$userId = 'u'", "$contentType = 'text/plain'", "$contentEncoding = 'utf-8'",
            "$ContentType = 'text/plain'", "NOT IS_DEFINED($enqueuedTime)",
        ] {
            #expect(try Fixture.holds(condition, message), "\(condition)")
        }
        #expect(try Fixture.holds("NOT IS_DEFINED($connectionModuleId) AND NOT IS_DEFINED($outputName)", Fixture.device()))
        // The documented way to send only leaf devices' messages upstream.
        let deviceOnly = "FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO $upstream"
        #expect(try Fixture.matches(deviceOnly, Fixture.device()))
        #expect(try !Fixture.matches(deviceOnly, message))
    }

    @Test("an application property named $name wins over the system property, unless written {$name}")
    func shadowing() throws {
        let message = Fixture.module("filter", properties: ["$connectionModuleId": "app", "$body.x": "prop"], json: "{\"x\": 5}")
        #expect(try Fixture.holds("$connectionModuleId = 'app'", message))
        #expect(try Fixture.holds("{$connectionModuleId} = 'filter'", message))
        #expect(try Fixture.holds("$body.x = 'prop'", message))
        #expect(try Fixture.holds("{$body.x} = 5", message))
    }

    @Test("$body paths read JSON bodies labelled application/json in UTF-8, 16 or 32")
    func body() throws {
        let json = #"{"Weather": {"Temperature": 50, "HistoricalData": [{"Month": "Feb", "Temperature": 40}], "Location": {"State": "WA"}},"# +
            #" "flag": true, "nothing": null, "name": "Sensor-1", "list": [1, 2]}"#
        let message = Fixture.device(properties: ["processingPath": "hot"], json: json)
        for condition in [
            "$body.Weather.Temperature = 50", "$body.Weather.Temperature = 50 AND processingPath = 'hot'",
            "$body.Weather.HistoricalData[0].Month = 'Feb'", "$body.Weather.HistoricalData[0].Temperature < $body.Weather.Temperature",
            "length($body.Weather.Location.State) = 2", "$body.flag", "$body.flag = true", "$body.nothing = null", "IS_NULL($body.nothing)",
            "IS_NUMBER($body.Weather.Temperature)", "IS_STRING($body.name)", "IS_BOOL($body.flag)", "$body.Weather.Temperature - 273 < 0",
            "$body.Weather.Temperature / 4 = 12.5", "$body.Weather.Temperature % 7 = 1", "-$body.Weather.Temperature = -50",
            "LOWER($body.name) = 'sensor-1'", "UPPER($body.name) = 'SENSOR-1'", "$body.list[1] = 2",
            "NOT IS_DEFINED($body.list)", "NOT IS_DEFINED($body.Weather)", "NOT IS_DEFINED($body.missing.deeper)", "NOT IS_DEFINED($body.list[5])",
            "$body.nothing != 1", "{$body.name} || '!' = 'Sensor-1!'",
        ] {
            #expect(try Fixture.holds(condition, message), "\(condition)")
        }
        for condition in [
            "$body.Weather.Temperature = '50'", "$body.Weather.Temperature > 'a'", "$body.name > 1", "$body.flag = 1",
            "NOT ($body.name = 1)", "$body.Weather = 1", "$body.name", "$body.missing = null",
        ] {
            #expect(try !Fixture.holds(condition, message), "\(condition)")
        }
    }

    @Test("$body is undefined unless the content type is JSON and the encoding UTF")
    func bodyLabels() throws {
        let json = Array(#"{"a": 1}"#.utf8)
        func message(_ type: String?, _ encoding: String?, _ body: [UInt8] = json) -> RoutableMessage {
            var m = RoutableMessage(source: .device("d"), body: body)
            m.contentType = type
            m.contentEncoding = encoding
            return m
        }
        #expect(try Fixture.holds("$body.a = 1", message("application/json", "utf-8")))
        #expect(try Fixture.holds("$body.a = 1", message("Application/JSON", "UTF-8")))
        #expect(try Fixture.holds("$body.a = 1", message("application/json", "utf-8", [0xEF, 0xBB, 0xBF] + json)))
        #expect(try !Fixture.holds("$body.a = 1", message("application/json", nil)))
        #expect(try !Fixture.holds("$body.a = 1", message("text/plain", "utf-8")))
        #expect(try !Fixture.holds("$body.a = 1", message(nil, nil)))
        #expect(try !Fixture.holds("$body.a = 1", message("application/json", "latin1")))
        #expect(try !Fixture.holds("IS_DEFINED($body.a)", message("application/json", "utf-8", Array("[1]".utf8))))
        #expect(try !Fixture.holds("IS_DEFINED($body.a)", message("application/json", "utf-8", Array("{\"a\": 1".utf8))))

        let text = #"{"a": "ü😀"}"#
        let utf16le = text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let utf16be: [UInt8] = [0xFE, 0xFF] + text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        let utf32le = text.unicodeScalars.flatMap { s in (0..<4).map { UInt8((s.value >> (8 * $0)) & 0xFF) } }
        let utf32be: [UInt8] = [0, 0, 0xFE, 0xFF] + text.unicodeScalars.flatMap { s in (0..<4).reversed().map { UInt8((s.value >> (8 * $0)) & 0xFF) } }
        #expect(try Fixture.holds("$body.a = 'ü😀'", message("application/json", "utf-16", utf16le)))
        #expect(try Fixture.holds("$body.a = 'ü😀' AND LENGTH($body.a) = 3", message("application/json", "UTF-16", utf16be)))
        #expect(try Fixture.holds("$body.a = 'ü😀'", message("application/json", "utf-32", utf32le)))
        #expect(try Fixture.holds("$body.a = 'ü😀'", message("application/json", "utf-32", utf32be)))
    }

    @Test("string functions are ordinal and count UTF-16 units")
    func strings() throws {
        let message = Fixture.device(properties: ["s": "Hello, wörld 😀", "e": "e\u{301}"])
        for condition in [
            "STARTS_WITH(s, 'Hello')", "NOT STARTS_WITH(s, 'hello')", "ENDS_WITH(s, '😀')", "CONTAINS(s, 'wör')", "CONTAINS(s, '')",
            "INDEX_OF(s, 'w') = 7", "INDEX_OF(s, 'x') = -1", "LENGTH(s) = 15", "SUBSTRING(s, 7) = 'wörld 😀'", "SUBSTRING(s, 0, 5) = 'Hello'",
            "NOT IS_DEFINED(SUBSTRING(s, 20))", "NOT IS_DEFINED(SUBSTRING(s, 1.5))", "CONCAT(s, '!', '?') = 'Hello, wörld 😀!?'",
            "e != 'é'", "LENGTH(e) = 2", "'a' < 'b'", "'B' < 'a'", "'abc' > 'ab'",
        ] {
            #expect(try Fixture.holds(condition, message), "\(condition)")
        }
    }

    @Test("numbers: AS_NUMBER and the math functions")
    func numbers() throws {
        let message = Fixture.device(properties: ["t": " 31.5 ", "bad": "31x", "inf": "inf", "hex": "0x10"], json: #"{"n": -2.5, "z": 0}"#)
        for condition in [
            "AS_NUMBER(t) = 31.5", "NOT IS_DEFINED(AS_NUMBER(bad))", "NOT IS_DEFINED(AS_NUMBER(inf))", "NOT IS_DEFINED(AS_NUMBER(hex))",
            "AS_NUMBER($body.n) = -2.5", "ABS($body.n) = 2.5", "CEILING($body.n) = -2", "FLOOR($body.n) = -3", "SIGN($body.n) = -1",
            "SIGN($body.z) = 0", "SQRT(16) = 4", "EXP(0) = 1", "POWER(2, 10) = 1024", "SQUARE($body.n) = 6.25",
            "1 / $body.z > 1e308", "NOT (0 / $body.z = 0 / $body.z)", "0 / $body.z != 1",
        ] {
            #expect(try Fixture.holds(condition, message), "\(condition)")
        }
    }

    @Test("twin change notifications: their own source, conditions on their body")
    func twinNotifications() throws {
        let twin = Fixture.message(.twinChangeNotification(deviceId: "edge1", moduleId: "filter"), json: #"{"properties": {"reported": {"fw": "1.2"}}}"#)
        let route = try Fixture.route("FROM /twinChangeNotifications WHERE $body.properties.reported.fw = '1.2' AND $connectionModuleId = 'filter' INTO $upstream")
        #expect(route.matches(twin))
        #expect(try !Fixture.matches("FROM /messages/* INTO $upstream", twin))
        #expect(!route.matches(Fixture.module("filter", json: #"{"properties": {"reported": {"fw": "1.2"}}}"#)))
    }

    @Test("a route without WHERE takes every message of its source")
    func noCondition() throws {
        let route = try Fixture.route("FROM /messages/modules/sensor/outputs/temperatureOutput INTO BrokeredEndpoint(\"/modules/filter/inputs/input1\")")
        #expect(route.matches(Fixture.module("sensor", output: "temperatureOutput")))
        #expect(!route.matches(Fixture.module("sensor", output: "other")))
        #expect(!route.matches(Fixture.device()))
    }
}
