import IoTProtocol
import Testing

@Suite("MQTT user names")
struct MQTTUsernameTests {
    /// What azure-iot-device 2.14.0 (Python 3.11.7) sends for a module.
    static let sdkUsername = "127.0.0.2/dev1/mod1/?api-version=2019-10-01&DeviceClientType=azure-iot-device-iothub-py%2F2.14.0%283.11.7%3BLinux%3Bx86_64%29"

    @Test("the Python SDK's user name: host, module client id, decoded DeviceClientType")
    func sdkUsername() throws {
        let u = try #require(MQTTUsername(parsing: Self.sdkUsername))
        #expect(u.hostName == "127.0.0.2")
        #expect(u.clientID == "dev1/mod1")
        #expect(u.apiVersion == "2019-10-01")
        #expect(u.deviceClientType == "azure-iot-device-iothub-py/2.14.0(3.11.7;Linux;x86_64)")
        #expect(u.modelID == nil)
    }

    @Test("a device with a model id (IoT Plug and Play)")
    func modelID() throws {
        let u = try #require(MQTTUsername(parsing: "myhub.azure-devices.net/dev1/?api-version=2021-04-12&model-id=dtmi%3Acom%3Aexample%3AThermostat%3B1"))
        #expect(u.clientID == "dev1")
        #expect(u.modelID == "dtmi:com:example:Thermostat;1")
    }

    @Test("without a query: with or without the trailing slash")
    func noQuery() throws {
        #expect(MQTTUsername(parsing: "hub/dev1/")?.clientID == "dev1")
        #expect(MQTTUsername(parsing: "hub/dev1")?.clientID == "dev1")
        #expect(MQTTUsername(parsing: "hub/dev1/mod1")?.clientID == "dev1/mod1")
        #expect(MQTTUsername(parsing: "hub/dev1/")?.parameters == [:])
    }

    @Test("a parameter without a value, and an undecodable one kept as sent")
    func oddParameters() throws {
        let u = try #require(MQTTUsername(parsing: "hub/d/?flag&x=%zz"))
        #expect(u.parameters == ["flag": "", "x": "%zz"])
    }

    @Test("no client id or no host: not a user name", arguments: ["hub", "hub/", "/dev1/?api-version=1", "", "/?a=b", "hub/?api-version=1"])
    func invalid(_ text: String) {
        #expect(MQTTUsername(parsing: text) == nil)
    }
}
