import IoTProtocol
import Testing

@Suite("Connection strings")
struct ConnectionStringTests {
    @Test("a device connection string: base64 key with '=' padding kept whole")
    func deviceString() throws {
        let cs = try ConnectionString(parsing: "HostName=myhub.azure-devices.net;DeviceId=dev1;SharedAccessKey=MDEyMzQ1Njc4OWFiY2RlZg==")
        #expect(cs.hostName == "myhub.azure-devices.net")
        #expect(cs.deviceID == "dev1")
        #expect(cs.moduleID == nil)
        #expect(cs.sharedAccessKey == "MDEyMzQ1Njc4OWFiY2RlZg==")
        #expect(cs.sharedAccessKeyName == nil)
    }

    @Test("a module connection string with a gateway")
    func moduleString() throws {
        let cs = try ConnectionString(parsing: "HostName=h.example;DeviceId=edge1;ModuleId=filter;SharedAccessKey=a2V5;GatewayHostName=edge.local")
        #expect(cs.deviceID == "edge1")
        #expect(cs.moduleID == "filter")
        #expect(cs.gatewayHostName == "edge.local")
    }

    @Test("a service policy connection string")
    func policyString() throws {
        let cs = try ConnectionString(parsing: "HostName=h.example;SharedAccessKeyName=iothubowner;SharedAccessKey=cG9saWN5a2V5PQ==")
        #expect(cs.sharedAccessKeyName == "iothubowner")
        #expect(cs.deviceID == nil)
    }

    @Test("a value may contain '=' anywhere; only the first '=' splits")
    func equalsInValue() throws {
        let cs = try ConnectionString(parsing: "HostName=h;SharedAccessKey=a=b==c=")
        #expect(cs.sharedAccessKey == "a=b==c=")
    }

    @Test("whitespace around pairs and empty pairs are ignored")
    func whitespace() throws {
        let cs = try ConnectionString(parsing: "  HostName=h.example ;\tDeviceId=dev1;; SharedAccessKey=a2V5\n;")
        #expect(cs == ConnectionString(hostName: "h.example", deviceID: "dev1", sharedAccessKey: "a2V5"))
    }

    @Test("keys are case-sensitive, as the SDKs treat them")
    func caseSensitiveKeys() {
        #expect(throws: ConnectionString.ParseError.missingHostName) {
            try ConnectionString(parsing: "hostname=h;SharedAccessKey=k")
        }
    }

    @Test("errors: missing HostName, missing or empty key, duplicates, pairs without '='", arguments: [
        ("DeviceId=d;SharedAccessKey=k", ConnectionString.ParseError.missingHostName),
        ("HostName=;DeviceId=d;SharedAccessKey=k", .missingHostName),
        ("HostName=h;DeviceId=d", .missingKey),
        ("HostName=h;DeviceId=d;SharedAccessKey=", .missingKey),
        ("HostName=h;DeviceId=a;DeviceId=b;SharedAccessKey=k", .duplicateKey("DeviceId")),
        ("HostName=h;HostName=h;SharedAccessKey=k", .duplicateKey("HostName")),
        ("HostName=h;DeviceId;SharedAccessKey=k", .malformedPair("DeviceId")),
        ("HostName=h;=value;SharedAccessKey=k", .malformedPair("=value")),
        ("", .missingHostName),
    ])
    func errors(text: String, error: ConnectionString.ParseError) {
        #expect(throws: error) { try ConnectionString(parsing: text) }
    }

    @Test("format: canonical order, parse(format(cs)) == cs")
    func formatRoundTrip() throws {
        let cs = ConnectionString(hostName: "h.example", deviceID: "d", moduleID: "m", sharedAccessKeyName: "p",
                                  sharedAccessKey: "k==", gatewayHostName: "gw")
        #expect(cs.description == "HostName=h.example;DeviceId=d;ModuleId=m;SharedAccessKeyName=p;SharedAccessKey=k==;GatewayHostName=gw")
        #expect(try ConnectionString(parsing: cs.description) == cs)
        let device = ConnectionString(hostName: "h", deviceID: "dev1", sharedAccessKey: "a2V5")
        #expect(device.description == "HostName=h;DeviceId=dev1;SharedAccessKey=a2V5")
    }

    @Test("error messages name the problem")
    func messages() {
        #expect(ConnectionString.ParseError.missingHostName.description == "connection string has no HostName=…")
        #expect(ConnectionString.ParseError.duplicateKey("DeviceId").description == "connection string names DeviceId twice")
    }
}
