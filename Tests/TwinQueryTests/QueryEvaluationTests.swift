import Testing
import Twin
import TwinQuery

/// Queries run over a few twins shaped like IoT Hub's: four devices and two modules.
@Suite("Query evaluation")
struct QueryEvaluationTests {
    static let thermostat: JSONValue = [
        "deviceId": "thermostat1", "etag": "AAAAAAAAAAE=", "status": "enabled", "connectionState": "Connected",
        "lastActivityTime": "2024-05-01T10:00:00Z", "version": 4,
        "tags": ["location": ["region": "US", "plant": "Redmond43"], "floor": 3],
        "properties": [
            "desired": ["telemetryConfig": ["sendFrequencyInSecs": 300], "$version": 2, "$metadata": [:]],
            "reported": ["temp": 21.5, "connectivity": "wifi", "telemetryConfig": ["status": "Success"], "$version": 5],
        ],
        "capabilities": ["iotEdge": false],
    ]
    static let sensor: JSONValue = [
        "deviceId": "sensor2", "status": "disabled", "connectionState": "Disconnected", "version": 2,
        "tags": ["location": ["region": "EU"], "floor": "3"],
        "properties": ["desired": ["$version": 1], "reported": ["temp": 19, "connectivity": "wired", "telemetryConfig": ["status": "Pending"]]],
        "capabilities": ["iotEdge": false],
    ]
    static let bare: JSONValue = [
        "deviceId": "bare3", "moduleId": "", "status": "enabled", "connectionState": "Disconnected", "version": 1,
        "tags": [:], "properties": ["desired": ["$version": 1], "reported": ["$version": 1]],
        "capabilities": ["iotEdge": false],
    ]
    static let gateway: JSONValue = [
        "deviceId": "gateway4", "status": "enabled", "connectionState": "Connected", "version": 7,
        "tags": ["location": ["region": "US"]],
        "properties": ["desired": ["$version": 1], "reported": ["telemetryConfig": ["status": "Success"]]],
        "capabilities": ["iotEdge": true],
    ]
    static let sensorModule: JSONValue = [
        "deviceId": "thermostat1", "moduleId": "SimulatedTemperatureSensor", "status": "enabled", "version": 3,
        "properties": ["desired": ["$version": 1], "reported": ["status": "scanning"]],
    ]
    static let edgeAgent: JSONValue = [
        "deviceId": "gateway4", "moduleId": "$edgeAgent", "status": "enabled", "version": 9,
        "properties": ["desired": ["$version": 1], "reported": ["status": "running"]],
    ]
    static let twins = [thermostat, sensorModule, sensor, bare, edgeAgent, gateway]

    private func run(_ text: String) throws -> [JSONValue] { try Query(parsing: text).evaluate(Self.twins) }

    /// The deviceId (and /moduleId) of each twin a `SELECT *` query returns, in order.
    private func ids(where condition: String, from source: String = "devices") throws -> [String] {
        try run("SELECT * FROM \(source) WHERE \(condition)").map { twin in
            [twin["deviceId"], twin["moduleId"]].compactMap { $0?.stringValue }.filter { !$0.isEmpty }.joined(separator: "/")
        }
    }

    @Test("SELECT * returns the device twins themselves, in order, and no module twins")
    func selectAll() throws {
        #expect(try run("SELECT * FROM devices") == [Self.thermostat, Self.sensor, Self.bare, Self.gateway])
        #expect(try run("SELECT TOP 2 * FROM devices") == [Self.thermostat, Self.sensor])
        #expect(try run("SELECT TOP 0 * FROM devices") == [])
    }

    @Test("conditions on tags and reported properties")
    func tagsAndReported() throws {
        #expect(try ids(where: "tags.location.region = 'US'") == ["thermostat1", "gateway4"])
        #expect(try ids(where: "tags.location.region = 'US' AND properties.reported.temp > 20") == ["thermostat1"])
        #expect(try ids(where: "properties.reported.temp <= 19") == ["sensor2"])
        #expect(try ids(where: "devices.tags.location.plant >= 'Redmond'") == ["thermostat1"])
        #expect(try ids(where: "capabilities.iotEdge = true") == ["gateway4"])
        #expect(try ids(where: "status = 'enabled' AND connectionState = 'Disconnected'") == ["bare3"])
    }

    @Test("IN and NIN: a twin without the property is in neither")
    func membership() throws {
        #expect(try ids(where: "properties.reported.connectivity IN ['wired', 'wifi']") == ["thermostat1", "sensor2"])
        #expect(try ids(where: "properties.reported.connectivity NIN ['wired']") == ["thermostat1"])
        #expect(try ids(where: "tags.floor IN [3]") == ["thermostat1"])
        #expect(try ids(where: "deviceId IN []") == [])
    }

    @Test("IS_DEFINED and NOT IS_DEFINED")
    func isDefined() throws {
        #expect(try ids(where: "IS_DEFINED(properties.reported.connectivity)") == ["thermostat1", "sensor2"])
        #expect(try ids(where: "NOT IS_DEFINED(properties.reported.connectivity)") == ["bare3", "gateway4"])
    }

    @Test("NOT of a comparison with a missing property stays undefined and selects nothing")
    func notOfUndefined() throws {
        #expect(try ids(where: "NOT (tags.location.region = 'US')") == ["sensor2"])
        #expect(try ids(where: "NOT tags.location.region = 'US' OR NOT IS_DEFINED(tags.location)") == ["sensor2", "bare3"])
    }

    @Test("AND binds tighter than OR")
    func orPrecedence() throws {
        let eu = "tags.location.region = 'EU'", us = "tags.location.region = 'US'", warm = "properties.reported.temp > 20"
        #expect(try ids(where: "\(eu) OR \(us) AND \(warm)") == ["thermostat1", "sensor2"])
        #expect(try ids(where: "(\(eu) OR \(us)) AND \(warm)") == ["thermostat1"])
    }

    @Test("values of different types are never equal, and do not order")
    func typeMismatch() throws {
        #expect(try ids(where: "tags.floor = 3") == ["thermostat1"])
        #expect(try ids(where: "tags.floor = '3'") == ["sensor2"])
        #expect(try ids(where: "tags.floor > '2'") == ["sensor2"])
        #expect(try ids(where: "tags.floor != 3") == [])
        #expect(try ids(where: "NOT (tags.floor = 3)") == ["sensor2"])
        #expect(try ids(where: "tags.location = 'US'") == [])
        #expect(try ids(where: "properties.reported.temp = null") == [])
    }

    @Test("type checks and string tests")
    func functions() throws {
        #expect(try ids(where: "IS_STRING(tags.floor)") == ["sensor2"])
        #expect(try ids(where: "IS_NUMBER(tags.floor)") == ["thermostat1"])
        #expect(try ids(where: "IS_OBJECT(tags.location) AND IS_BOOL(capabilities.iotEdge)") == ["thermostat1", "sensor2", "gateway4"])
        #expect(try ids(where: "STARTSWITH(deviceId, 'th') OR ENDSWITH(deviceId, '4')") == ["thermostat1", "gateway4"])
        #expect(try ids(where: "CONTAINS(tags.location.plant, 'mond')") == ["thermostat1"])
        #expect(try ids(where: "STARTSWITH(tags.floor, '3')") == ["sensor2"])
    }

    @Test("projections: aliases, last keys, missing fields left out; keys as the twin spells them")
    func projections() throws {
        #expect(try run("SELECT deviceId, properties.reported.temp AS t, tags.location.region FROM devices") == [
            ["deviceId": "thermostat1", "t": 21.5, "region": "US"],
            ["deviceId": "sensor2", "t": 19, "region": "EU"],
            ["deviceId": "bare3"],
            ["deviceId": "gateway4", "region": "US"],
        ])
        #expect(try run("SELECT DeviceId, LastActivityTime FROM devices WHERE status = 'enabled' AND connectionState = 'Connected'") == [
            ["deviceId": "thermostat1", "lastActivityTime": "2024-05-01T10:00:00Z"],
            ["deviceId": "gateway4"],
        ])
        #expect(try run("SELECT TOP 1 devices.tags FROM devices WHERE deviceId = 'sensor2'") == [["tags": ["location": ["region": "EU"], "floor": "3"]]])
    }

    @Test("COUNT() without GROUP BY is one row, even for no twins")
    func count() throws {
        #expect(try run("SELECT COUNT() AS totalNumberOfDevices FROM devices") == [["totalNumberOfDevices": 4]])
        #expect(try run("SELECT COUNT() FROM devices WHERE status = 'enabled'") == [["$1": 3]])
        #expect(try run("SELECT COUNT() AS n FROM devices WHERE deviceId = 'nobody'") == [["n": 0]])
        #expect(try run("SELECT COUNT() AS n FROM devices.modules") == [["n": 2]])
    }

    @Test("GROUP BY counts per value, the twins without it in a group of their own, ordered by value")
    func groupBy() throws {
        #expect(try run("""
            SELECT properties.reported.telemetryConfig.status AS status, COUNT() AS numberOfDevices
            FROM devices GROUP BY properties.reported.telemetryConfig.status
            """) == [
            ["numberOfDevices": 1],
            ["numberOfDevices": 1, "status": "Pending"],
            ["numberOfDevices": 2, "status": "Success"],
        ])
        #expect(try run("SELECT COUNT() AS n FROM devices WHERE IS_DEFINED(tags.location) GROUP BY tags.location.region, capabilities.iotEdge") == [
            ["n": 1, "region": "EU", "iotEdge": false],
            ["n": 1, "region": "US", "iotEdge": false],
            ["n": 1, "region": "US", "iotEdge": true],
        ])
        #expect(try run("SELECT status, COUNT() FROM devices GROUP BY status") == [
            ["status": "disabled", "$1": 1],
            ["status": "enabled", "$1": 3],
        ])
        #expect(try run("SELECT TOP 1 status FROM devices GROUP BY status") == [["status": "disabled"]])
    }

    @Test("module queries see only module twins (a non-empty moduleId), and filter by moduleId and deviceId")
    func modules() throws {
        #expect(try run("SELECT * FROM devices.modules") == [Self.sensorModule, Self.edgeAgent])
        #expect(try ids(where: "moduleId = '$edgeAgent'", from: "devices.modules") == ["gateway4/$edgeAgent"])
        #expect(try ids(where: "devices.modules.moduleId = '$edgeAgent'", from: "devices.modules") == ["gateway4/$edgeAgent"])
        #expect(try ids(where: "properties.reported.status = 'scanning' AND deviceId IN ['thermostat1', 'device2']", from: "devices.modules")
                == ["thermostat1/SimulatedTemperatureSensor"])
        #expect(try run("SELECT deviceId, moduleId FROM devices.modules WHERE STARTSWITH(moduleId, '$')") == [
            ["deviceId": "gateway4", "moduleId": "$edgeAgent"],
        ])
        #expect(try ids(where: "IS_DEFINED(moduleId)") == ["bare3"], "an empty moduleId is a device twin's")
    }

    @Test("the item type and the source")
    func itemType() throws {
        #expect(try Query(parsing: "SELECT * FROM devices.modules").itemType == .twin)
        #expect(try Query(parsing: "SELECT * FROM devices.modules").source == .modules)
        #expect(try Query(parsing: "SELECT deviceId FROM devices").itemType == .raw)
        #expect(try Query(parsing: "SELECT COUNT() FROM devices").itemType.rawValue == "raw")
    }
}
