import EdgeDaemon
import EdgeModule
import Foundation
import Testing
import Twin
@testable import EdgeCheck

@Suite("check helpers")
struct CheckHelperTests {
    static let key = "YXppb3QtaWRlbnRpdHktc2VydmljZXxhemlvdC1pZGU="

    static func config(hostname: String) -> String {
        """
        # device
        hostname = "\(hostname)"
        homedir = "/var/lib/outpost-test"

        [provisioning]
        source = "manual"
        connection_string = "HostName=hub.example.com;DeviceId=dev1;SharedAccessKey=\(key)"
        """
    }

    func write(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "check-\(UUID().uuidString).toml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aBadHostnameLeavesTheRestOfTheConfigReadable() async throws {
        let long = String(repeating: "a", count: 70) + ".example.com"
        let path = try write(Self.config(hostname: long))
        defer { unlink(path) }
        guard case .badHostname(let rest, let error) = ConfigState.load(path: path) else {
            Issue.record("expected badHostname"); return
        }
        #expect(rest.provisioning.deviceID == "dev1" && rest.homeDirectory == "/var/lib/outpost-test")
        #expect(error.line == 2)
        let context = CheckContext(options: .init(configPath: path))
        let hostname = await HostnameCheck().run(context)
        #expect(hostname.status == .failed)
        #expect(hostname.details[0] == "\(path):2: " + ConfigError.invalidHostnameMessage)
        #expect(hostname.details[1].contains("hostname = \"\(long)\""))
        #expect(await ConfigWellFormed().run(context).status == .failed)
        #expect(await ConnectionString().run(context).status == .ok)
        #expect(await EdgeHubHostPorts().run(context).status == .skipped)
    }

    @Test func aMissingConfigIsFatalAndOtherErrorsAreNot() async throws {
        let missing = CheckContext(options: .init(configPath: "/nonexistent/outpost/config.toml"))
        #expect(await ConfigWellFormed().run(missing).status == .fatal)
        let path = try write("hostname = \"ok\"\n[provisioning]\nsource = \"dps\"\n")
        defer { unlink(path) }
        let bad = CheckContext(options: .init(configPath: path))
        let result = await ConfigWellFormed().run(bad)
        #expect(result.status == .failed && result.details[0].contains(":3: provisioning.source"))
        #expect(await ConnectionString().run(bad).status == .failed)
        #expect(await HostnameCheck().run(bad).status == .skipped)
    }

    @Test func credentialsProblems() {
        #expect(ConnectionString.problem(hub: "hub.example.com", device: "d", key: Self.key) == nil)
        #expect(ConnectionString.problem(hub: "", device: "d", key: Self.key)?.contains("empty") == true)
        #expect(ConnectionString.problem(hub: "hub..x", device: "d", key: Self.key) != nil)
        #expect(ConnectionString.problem(hub: "h", device: "d", key: "not base64!")?.contains("base64") == true)
        #expect(ConnectionString.problem(hub: "h", device: "d", key: "YWJj")?.contains("3 bytes") == true)
    }

    @Test func clockSkew() {
        let fix = "sync"
        func reading(_ skew: Double, uncertainty: Double = 1) -> HubClock.Reading {
            HubClock.Reading(hubTime: 1_000_000, localTime: 1_000_000 + skew, source: "Date header", uncertainty: uncertainty)
        }
        #expect(HostLocalTime.assess(reading(0.4), fix: fix).status == .ok)
        #expect(HostLocalTime.assess(reading(-10.5), fix: fix).status == .ok)  // within the uncertainty
        let ahead = HostLocalTime.assess(reading(42), fix: fix)
        #expect(ahead.status == .warning && ahead.details[0].contains("42 s ahead of the hub"))
        let behind = HostLocalTime.assess(reading(-3600), fix: fix)
        #expect(behind.status == .failed && behind.details[0].contains("behind"))
        #expect(behind.additionalInfo["skew_seconds"] == -3600)
    }

    @Test func hubTimeFromHeaderOrErrorBody() {
        #expect(HubClock.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(HubClock.parseHTTPDate("yesterday") == nil)
        let outpost = #"{"Message":"ErrorCode:IotHubUnauthorizedAccess;x","ExceptionMessage":"Tracking ID:abc-G:0-TimeStamp:1994-11-06T08:49:37Z","errorCode":401001}"#
        #expect(HubClock.timeStamp(inBody: outpost) == 784_111_777)
        let azure = #"{"Message":"…","ExceptionMessage":"Tracking ID:abc-G:10-TimeStamp:11/06/1994 08:49:37"}"#
        #expect(HubClock.timeStamp(inBody: azure) == 784_111_777)
        #expect(HubClock.timeStamp(inBody: "{}") == nil)
    }

    @Test func portsHeldByEdgeHubOrFreeAreFineOthersAreNamed() {
        let socket = PortHolder.Socket(address: [127, 0, 0, 9], port: 443, state: 0x0A, inode: 7)
        let python = PortHolder.Holder(pid: 4242, commandLine: "python3 -m http.server 443", socket: socket)
        let free = EdgeHubHostPorts.assess(.init(holders: [], unattributed: []), port: 443, host: "gw", isEdgeHub: { _ in false })
        #expect(free.problem == nil && free.holder == "free")
        let hub = EdgeHubHostPorts.assess(.init(holders: [python], unattributed: []), port: 443, host: "gw", isEdgeHub: { $0 == 4242 })
        #expect(hub.problem == nil && hub.holder == "edgeHub (pid 4242)")
        let other = EdgeHubHostPorts.assess(.init(holders: [python], unattributed: []), port: 443, host: "gw", isEdgeHub: { _ in false })
        #expect(other.problem?.contains("gw:443 is held by pid 4242 (python3 -m http.server 443), listening on 127.0.0.9:443") == true)
        let hidden = EdgeHubHostPorts.assess(.init(holders: [], unattributed: [socket]), port: 443, host: "gw", isEdgeHub: { _ in true })
        #expect(hidden.problem?.contains("cannot see") == true)
        let env = ProcessEnvironment.parse(Array("IOTEDGE_MODULEID=$edgeHub\0IOTEDGE_WORKLOADURI=unix:///a/w.sock\0X=a=b\0".utf8))
        #expect(env["X"] == "a=b")
        #expect(EdgeHubHostPorts.isEdgeHub(env, workloadURI: "unix:///a/w.sock"))
        #expect(!EdgeHubHostPorts.isEdgeHub(env, workloadURI: "unix:///other/w.sock"))
    }

    @Test func amqpRefusedIsOnlyAWarning() {
        let amqp = HostConnectIoTHub(.amqp).assess(.refused, host: "h", port: 5671, trustBundle: nil, timeout: 5)
        #expect(amqp.status == .warning && amqp.details[0].contains("MQTT and HTTPS only"))
        let mqtt = HostConnectIoTHub(.mqtt).assess(.refused, host: "h", port: 8883, trustBundle: nil, timeout: 5)
        #expect(mqtt.status == .failed && mqtt.details[0].contains("cannot connect to IoT Hub"))
        #expect(HostConnectIoTHub(.https).assess(.timedOut, host: "h", port: 443, trustBundle: nil, timeout: 5).status == .failed)
        #expect(HostConnectIoTHub(.amqp).assess(.handshake(milliseconds: 3), host: "h", port: 5671, trustBundle: nil, timeout: 5).status == .ok)
    }

    @Test func tlsProbeSeesARefusedPort() async {
        // Port 1 on loopback: nothing listens.
        #expect(await TLSProbe.handshake(host: "127.0.0.1", port: 1, trustPEM: nil, timeout: 2) == .refused)
    }

    @Test func hostFacts() {
        let meminfo = "MemTotal:         949120 kB\nMemFree:          100000 kB\n"
        #expect(SystemFacts.memTotal(meminfo: meminfo) == 949_120 * 1024)
        #expect(SystemFacts.memTotal(meminfo: "nothing") == nil)
        let mounts = SystemFacts.mounts("""
            /dev/sda1 / ext4 rw 0 0
            tmpfs /run tmpfs rw 0 0
            tmpfs /var/lib/outpost\\040ram tmpfs rw 0 0
            /dev/sdb1 /var/lib ext4 rw 0 0
            """)
        #expect(SystemFacts.mount(of: "/var/lib/outpost/storage", in: mounts)?.mountPoint == "/var/lib")
        #expect(SystemFacts.mount(of: "/var/lib/outpost ram/x", in: mounts)?.type == "tmpfs")
        #expect(SystemFacts.mount(of: "/runner", in: mounts)?.mountPoint == "/")
    }

    @Test func storageOnTmpfsOrUnderTmpWarns() {
        let tmpfs = SystemFacts.Mount(device: "tmpfs", mountPoint: "/run", type: "tmpfs")
        let disk = SystemFacts.Mount(device: "/dev/sda1", mountPoint: "/", type: "ext4")
        #expect(StorageMountedFromHost.assess(folder: "/run/hub", mount: tmpfs, module: "edgeHub", fix: "f").status == .warning)
        #expect(StorageMountedFromHost.assess(folder: "/tmp/x/edgeHub", mount: disk, module: "edgeHub", fix: "f").status == .warning)
        #expect(StorageMountedFromHost.assess(folder: "/var/lib/outpost/storage/edgeHub", mount: disk, module: "edgeHub", fix: "f").status == .ok)
        #expect(StorageMountedFromHost.storageFolder(module: "edgeHub", env: [:], workloadURI: "unix:///var/lib/outpost/workload.sock")
                == "/var/lib/outpost/storage/edgeHub")
        #expect(StorageMountedFromHost.storageFolder(module: "edgeAgent", env: ["StorageFolder": "/data/a"], workloadURI: "unix:///w.sock") == "/data/a")
    }

    @Test func optimizeForPerformanceAdvice() {
        let small: UInt64 = 512 << 20, big: UInt64 = 8 << 30
        let advice = OptimizeForPerformance.assess(memTotal: small, optimizeForPerformance: nil, fix: "f")
        #expect(advice.status == .warning && advice.details[0].contains("Stability issues on resource constrained devices"))
        #expect(OptimizeForPerformance.assess(memTotal: small, optimizeForPerformance: "False", fix: "f").status == .ok)
        #expect(OptimizeForPerformance.assess(memTotal: small, optimizeForPerformance: "true", fix: "f").status == .warning)
        #expect(OptimizeForPerformance.assess(memTotal: big, optimizeForPerformance: nil, fix: "f").status == .ok)
    }

    @Test func diskLogsCertificatesAndConfigAge() {
        let gib: UInt64 = 1 << 30
        #expect(DiskSpace.assess(.init(available: 50 * gib, total: 100 * gib), path: "/", fix: "f").status == .ok)
        #expect(DiskSpace.assess(.init(available: 5 * gib, total: 100 * gib), path: "/", fix: "f").status == .warning)
        #expect(DiskSpace.assess(.init(available: gib / 2, total: 2 * gib), path: "/", fix: "f").status == .warning)
        #expect(DiskSpace.assess(.init(available: 0, total: 2 * gib), path: "/", fix: "f").status == .failed)

        let mib = 1 << 20
        #expect(LogRotation.assess(files: [("iotedged.log", 3 * mib), ("edgeHub.log.1", 10 * mib)], directory: "/l", maxBytes: 10 * mib, maxFiles: 3, fix: "f").status == .ok)
        let big = LogRotation.assess(files: [("edgeHub.log", 50 * mib)], directory: "/l", maxBytes: 10 * mib, maxFiles: 3, fix: "f")
        #expect(big.status == .warning && big.details[0].contains("edgeHub.log is 50 MiB"))
        #expect(LogRotation.assess(files: [("edgeHub.log.3", 1)], directory: "/l", maxBytes: 10 * mib, maxFiles: 3, fix: "f").status == .warning)

        let now = 2_000_000_000.0
        #expect(EdgeCAExpiry.assess(notAfter: now + 30 * 86_400, now: now, path: "ca", fix: "f").status == .ok)
        #expect(EdgeCAExpiry.assess(notAfter: now + 3 * 86_400, now: now, path: "ca", fix: "f").status == .warning)
        #expect(EdgeCAExpiry.assess(notAfter: now - 1, now: now, path: "ca", fix: "f").status == .failed)

        #expect(ConfigUpToDate.assess(modified: 100, applied: 100.5) == nil)
        #expect(ConfigUpToDate.assess(modified: 200, applied: 100)?.contains("not in effect") == true)
    }
}
