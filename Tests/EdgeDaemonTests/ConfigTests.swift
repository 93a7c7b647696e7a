import Foundation
import Testing
@testable import EdgeDaemon

@Suite("config.toml")
struct ConfigTests {
    static let key = "YXppb3QtaWRlbnRpdHktc2VydmljZXxhemlvdC1pZGU="

    static let good = """
    # An Outpost edge device
    hostname = "edge-1.example.com"
    homedir = "/var/lib/outpost-test"
    trust_bundle_cert = "file:///etc/outpost/hub-ca.pem"

    [provisioning]
    source = "manual"
    connection_string = "HostName=hub.example.com;DeviceId=dev1;SharedAccessKey=\(key)"

    [agent]
    name = "edgeAgent"
    type = "process"

    [agent.config]
    image = "edge-agent"
    createOptions = { Cmd = ["--verbose"], WorkingDir = "/tmp" }

    [agent.env]
    RuntimeLogLevel = "debug"
    UpstreamProtocol = "MqttWs"
    Retries = 3

    [connect]
    management_uri = "unix:///run/outpost/mgmt.sock"
    workload_uri = "unix:///run/outpost/workload.sock"

    [listen]
    management_uri = "unix:///run/outpost/mgmt.sock"
    workload_uri = "unix:///run/outpost/workload.sock"

    [moby_runtime]
    uri = "unix:///var/run/docker.sock"
    """

    static let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

    static func files(_ path: String) -> [UInt8]? {
        switch path {
        case "/etc/outpost/hub-ca.pem": Array(pem.utf8)
        case "/secrets/key.txt": Array((key + "\n").utf8)
        case "/secrets/key.bin": Array(Data(base64Encoded: key)!)
        case "/secrets/short.bin": [1, 2, 3]
        default: nil
        }
    }

    static func parse(_ text: String, hostname: String = "machine") throws(ConfigError) -> EdgeConfig {
        try EdgeConfig.parse(text, file: "/etc/outpost/config.toml", defaultHome: "/home/u/.outpost/edge",
                             systemHostname: hostname, readFile: files)
    }

    /// Parses `text`, expecting a refusal; returns it.
    static func refusal(_ text: String, hostname: String = "machine") -> ConfigError? {
        do { _ = try parse(text, hostname: hostname); return nil } catch { return error }
    }

    @Test func goodConfigWithConnectionString() throws {
        let c = try Self.parse(Self.good)
        #expect(c.hostname == "edge-1.example.com")
        #expect(c.homeDirectory == "/var/lib/outpost-test")
        #expect(c.provisioning == .init(iothubHostname: "hub.example.com", deviceID: "dev1", deviceKey: Self.key))
        #expect(c.trustBundlePEM == Self.pem)
        #expect(c.agent.name == "edgeAgent")
        #expect(c.agent.type == "process")
        #expect(c.agent.image == "edge-agent")
        #expect(c.agent.createOptions?["Cmd"] == .array([.string("--verbose")]))
        #expect(c.agent.env.first { $0.key == "RuntimeLogLevel" }?.value == "debug")
        #expect(c.agent.env.first { $0.key == "UpstreamProtocol" }?.value == "MqttWs")
        #expect(c.agent.env.first { $0.key == "Retries" }?.value == "3")
        #expect(c.connect.managementSocketPath == "/run/outpost/mgmt.sock")
        #expect(c.listen.workloadSocketPath == "/run/outpost/workload.sock")
        #expect(c.notes.contains { $0.contains("[moby_runtime] is ignored") })
        #expect(c.logDirectory == "/var/lib/outpost-test/logs")
    }

    @Test func defaultsFillWhatIsLeftOut() throws {
        let c = try Self.parse("""
        [provisioning]
        source = "manual"
        connection_string = "HostName=hub;DeviceId=d;SharedAccessKey=\(Self.key)"
        """, hostname: "pi-4")
        #expect(c.hostname == "pi-4")
        #expect(c.homeDirectory == "/home/u/.outpost/edge")
        #expect(c.agent == EdgeConfig.Agent())
        #expect(c.listen.managementURI == "unix:///home/u/.outpost/edge/mgmt.sock")
        #expect(c.connect.workloadURI == "unix:///home/u/.outpost/edge/workload.sock")
        #expect(c.trustBundlePEM == nil)
    }

    @Test func halfGivenSocketSectionsBorrowTheRest() throws {
        let c = try Self.parse("""
        [provisioning]
        source = "manual"
        connection_string = "HostName=hub;DeviceId=d;SharedAccessKey=\(Self.key)"
        [listen]
        workload_uri = "unix:///run/w.sock"
        """)
        #expect(c.listen.workloadURI == "unix:///run/w.sock")
        #expect(c.connect.workloadURI == "unix:///run/w.sock")
        #expect(c.listen.managementURI == "unix:///home/u/.outpost/edge/mgmt.sock")
    }

    @Test(arguments: [
        ("device_id_pk = { value = \"\(ConfigTests.key)\" }", "device_id_pk.value"),
        ("device_id_pk = { uri = \"file:///secrets/key.txt\" }", "/secrets/key.txt"),
        ("device_id_pk = { uri = \"file:///secrets/key.bin\" }", "/secrets/key.bin"),
    ])
    func goodConfigWithDeviceIDAndKey(line: String, source: String) throws {
        let c = try Self.parse("""
        hostname = "edge"
        [provisioning]
        source = "manual"
        iothub_hostname = "hub.example.com"
        device_id = "dev2"
        iothub_https_port = 8443
        [provisioning.authentication]
        method = "sas"
        \(line)
        """)
        #expect(c.provisioning.iothubHostname == "hub.example.com")
        #expect(c.provisioning.deviceID == "dev2")
        #expect(c.provisioning.deviceKey == Self.key)
        #expect(c.provisioning.keySource == source)
        #expect(c.provisioning.iothubHTTPSPort == 8443)
    }

    @Test func hostnameLongerThan64GivesTheSeedsMessageWithFileAndLine() throws {
        let long = String(repeating: "a", count: 65)
        let e = try #require(Self.refusal(Self.good.replacingOccurrences(of: "edge-1.example.com", with: long)))
        #expect(e.message == "Error parsing user input data: invalid hostname. Hostname cannot be empty or greater than 64 characters")
        #expect(e.file == "/etc/outpost/config.toml")
        #expect(e.line == 2)
        #expect(e.description.hasPrefix("/etc/outpost/config.toml:2: Error parsing user input data: invalid hostname. Hostname cannot be empty or greater than 64 characters"))
        #expect(e.description.contains("2 | hostname = \"\(long)\""))
        #expect(e.description.contains("fix: Set hostname"))
    }

    @Test func hostnameOf64IsAccepted() throws {
        let name = String(repeating: "a", count: 32) + "." + String(repeating: "b", count: 31)
        #expect(name.count == 64)
        #expect(try Self.parse(Self.good.replacingOccurrences(of: "edge-1.example.com", with: name)).hostname == name)
    }

    @Test func emptyHostnameGivesTheSeedsMessage() throws {
        let e = try #require(Self.refusal(Self.good.replacingOccurrences(of: "\"edge-1.example.com\"", with: "\"\"")))
        #expect(e.message == ConfigError.invalidHostnameMessage)
        #expect(e.line == 2)
    }

    @Test func aLongMachineHostnameIsRefusedWhenTheFileGivesNone() throws {
        let text = Self.good.replacingOccurrences(of: "hostname = \"edge-1.example.com\"\n", with: "")
        let e = try #require(Self.refusal(text, hostname: String(repeating: "w", count: 70)))
        #expect(e.message.hasPrefix(ConfigError.invalidHostnameMessage))
        #expect(e.message.contains("the machine's host name"))
        #expect(e.line == nil)
    }

    @Test(arguments: [
        ("edge_1", "contains \"_\""),
        ("1edge", "does not start with a letter"),
        ("edge-", "does not end with a letter or a digit"),
        ("a..b", "empty label"),
    ])
    func hostnameFollowsRFC1035(name: String, why: String) throws {
        let e = try #require(Self.refusal(Self.good.replacingOccurrences(of: "edge-1.example.com", with: name)))
        #expect(e.message.contains("RFC 1035"))
        #expect(e.message.contains(why))
        #expect(e.line == 2)
    }

    @Test func anIPAddressIsAValidHostname() throws {
        #expect(try Self.parse(Self.good.replacingOccurrences(of: "edge-1.example.com", with: "127.0.0.5")).hostname == "127.0.0.5")
    }

    @Test func syntaxErrorsNameTheLine() throws {
        let e = try #require(Self.refusal("hostname = \"x\"\n\n[provisioning\nsource = \"manual\"\n"))
        #expect(e.line == 3)
        #expect(e.message.hasPrefix("config.toml is not valid TOML"))
        #expect(e.lineText == "[provisioning")
    }

    @Test func missingProvisioningIsRefused() throws {
        let e = try #require(Self.refusal("hostname = \"edge\"\n"))
        #expect(e.message.contains("[provisioning] section is missing"))
        #expect(e.fix.contains("connection_string"))
    }

    @Test func dpsIsRefusedOnItsLine() throws {
        let e = try #require(Self.refusal(Self.good.replacingOccurrences(of: "source = \"manual\"", with: "source = \"dps\"")))
        #expect(e.message.contains("\"dps\" is not supported"))
        #expect(e.line == 7)
    }

    @Test func aBrokenConnectionStringIsRefusedOnItsLine() throws {
        let e = try #require(Self.refusal(Self.good.replacingOccurrences(of: ";SharedAccessKey=\(Self.key)", with: "")))
        #expect(e.message.contains("not a connection string"))
        #expect(e.line == 8)
    }

    @Test func aPolicyConnectionStringIsRefused() throws {
        let e = try #require(Self.refusal(Self.good.replacingOccurrences(of: "DeviceId=dev1", with: "SharedAccessKeyName=iothubowner")))
        #expect(e.message.contains("shared access policy"))
        #expect(e.line == 8)
    }

    @Test func aConnectionStringWithoutDeviceIdIsRefused() throws {
        let e = try #require(Self.refusal(Self.good.replacingOccurrences(of: "DeviceId=dev1;", with: "")))
        #expect(e.message.contains("no DeviceId"))
    }

    @Test func x509IsRefusedOnItsLine() throws {
        let e = try #require(Self.refusal("""
        [provisioning]
        source = "manual"
        iothub_hostname = "hub"
        device_id = "d"
        [provisioning.authentication]
        method = "x509"
        """))
        #expect(e.message.contains("\"x509\" is not supported"))
        #expect(e.line == 6)
    }

    @Test func anUnreadableKeyFileIsRefusedOnItsLine() throws {
        let e = try #require(Self.refusal("""
        [provisioning]
        source = "manual"
        iothub_hostname = "hub"
        device_id = "d"
        [provisioning.authentication]
        method = "sas"
        device_id_pk = { uri = "file:///secrets/missing.key" }
        """))
        #expect(e.message.contains("cannot read the device key file /secrets/missing.key"))
        #expect(e.line == 7)
    }

    @Test func aKeyFileWithoutAKeyIsRefused() throws {
        let e = try #require(Self.refusal("""
        [provisioning]
        source = "manual"
        iothub_hostname = "hub"
        device_id = "d"
        [provisioning.authentication]
        method = "sas"
        device_id_pk = { uri = "file:///secrets/short.bin" }
        """))
        #expect(e.message.contains("neither a base64 key"))
    }

    @Test func aMissingTrustBundleIsRefusedOnItsLine() throws {
        let e = try #require(Self.refusal(Self.good.replacingOccurrences(of: "hub-ca.pem", with: "nope.pem")))
        #expect(e.message.contains("cannot read trust_bundle_cert /etc/outpost/nope.pem"))
        #expect(e.line == 4)
    }

    @Test func anUnknownAgentTypeIsRefusedOnItsLine() throws {
        let e = try #require(Self.refusal(Self.good.replacingOccurrences(of: "type = \"process\"", with: "type = \"kubernetes\"")))
        #expect(e.message.contains("agent.type = \"kubernetes\""))
        #expect(e.line == 12)
    }

    @Test func anAgentWithoutImageIsRefused() throws {
        let e = try #require(Self.refusal(Self.good.replacingOccurrences(of: "image = \"edge-agent\"\n", with: "")))
        #expect(e.message.contains("agent.config.image is missing"))
        #expect(e.line == 14)
    }

    @Test func aNonUnixSocketURIIsRefusedOnItsLine() throws {
        let text = Self.good.replacingOccurrences(of: "workload_uri = \"unix:///run/outpost/workload.sock\"\n\n[listen]",
                                                  with: "workload_uri = \"http://localhost:15581\"\n\n[listen]")
        let e = try #require(Self.refusal(text))
        #expect(e.message.contains("connect.workload_uri \"http://localhost:15581\" is not a unix:// URI"))
        #expect(e.line == 25)
    }

    @Test func aTopLevelKeyWrittenUnderASectionIsRefused() throws {
        let text = Self.good.replacingOccurrences(of: "trust_bundle_cert = \"file:///etc/outpost/hub-ca.pem\"\n", with: "")
            .replacingOccurrences(of: "[agent]\n", with: "trust_bundle_cert = \"file:///etc/outpost/hub-ca.pem\"\n\n[agent]\n")
        let e = try #require(Self.refusal(text))
        #expect(e.message.contains("trust_bundle_cert is inside [provisioning]"))
        #expect(e.line == 9)
    }

    @Test func aRelativeHomedirIsRefused() throws {
        let e = try #require(Self.refusal(Self.good.replacingOccurrences(of: "\"/var/lib/outpost-test\"", with: "\"data\"")))
        #expect(e.message.contains("homedir must be an absolute path"))
        #expect(e.line == 3)
    }

    @Test func loadNamesAMissingFile() throws {
        do {
            _ = try EdgeConfig.load(path: "/nonexistent/config.toml")
            Issue.record("expected a refusal")
        } catch {
            #expect(error.file == "/nonexistent/config.toml")
            #expect(error.message.contains("cannot read the config file"))
            #expect(error.fix.contains("--config"))
        }
    }

    @Test func linesOfKeysAreFound() {
        let lines = TOMLLines(Self.good)
        #expect(lines.line(of: "hostname") == 2)
        #expect(lines.line(of: "provisioning.connection_string") == 8)
        #expect(lines.line(of: "agent.config.image") == 15)
        #expect(lines.line(of: "agent.config.createOptions.Cmd") == 16)
        #expect(lines.line(of: "agent.env.UpstreamProtocol") == 20)
        #expect(lines.line(of: "agent.config.nothing") == 14)
        #expect(TOMLLines("a.b = 1\n[x]\n\"q\" = 2").line(of: "x.q") == 3)
        #expect(TOMLLines("a.b = 1").line(of: "a.b") == 1)
    }

    @Test func logLevelsParseAsTheSeedsSpellThem() {
        #expect(EdgeLogLevel.parse("fatal") == .critical)
        #expect(EdgeLogLevel.parse("warning") == .warning)
        #expect(EdgeLogLevel.parse("edgelet=debug") == .debug)
        #expect(EdgeLogLevel.parse("verbose") == .trace)
        #expect(EdgeLogLevel.parse("loud") == nil)
    }
}
