import Foundation
import Glibc
import Logging
import Testing
@testable import EdgeDaemon

/// The whole daemon without a hub: identities from a `StaticIdentityProvider`, edgeAgent a
/// shell script.
@Suite("daemon", .timeLimit(.minutes(2)))
struct EdgeDaemonTests {
    @Test func startsTheAgentWithItsEnvironmentRestartsItAndStopsEverything() async throws {
        let dir = TempDir()
        let agent = dir.script("agent", """
        echo "Starting module management agent."
        env | grep -E '^(IOTEDGE_|RuntimeLogLevel|EdgeDeviceHostName|Mode)' | sort
        exec sleep 300
        """)
        let key = "YXppb3QtaWRlbnRpdHktc2VydmljZXxhemlvdC1pZGU="
        let text = """
        hostname = "edge-1"
        homedir = "\(dir.path)"
        [provisioning]
        source = "manual"
        connection_string = "HostName=hub.example.com;DeviceId=edge1;SharedAccessKey=\(key)"
        [agent]
        name = "edgeAgent"
        type = "process"
        [agent.config]
        image = "\(agent)"
        [agent.env]
        RuntimeLogLevel = "debug"
        """
        let config = try EdgeConfig.parse(text, file: dir.file("config.toml"))
        let provider = StaticIdentityProvider()
        var options = EdgeDaemon.Options()
        options.watchdogInterval = 0.1
        let log = CapturedLog()
        let daemon = EdgeDaemon(config: config, identityProvider: provider, options: options, logger: log.logger)
        let running = Task { try await daemon.run() }
        let mgmt = config.listen.managementSocketPath

        #expect(await eventually { (try? await daemon.runtime.module("edgeAgent").state.status) == .running })
        let identities = try await provider.listModules().map(\.moduleId)
        #expect(identities == ["$edgeAgent", "$edgeHub"])
        var st = stat()
        #expect(stat(dir.file("identities.json"), &st) == 0 && st.st_mode & 0o777 == 0o600)
        #expect(log.messages.contains { $0.contains("Version - \(EdgeDaemonVersion.text)") })
        #expect(log.messages.contains { $0.contains("Provisioned module identity $edgeAgent") })

        let (status, json) = await UnixHTTP.json(mgmt, "GET", "/modules?api-version=2020-07-07")
        #expect(status == 200)
        #expect(json?["modules"]?.arrayValue?.first?["name"] == .string("edgeAgent"))

        #expect(await eventually { (try? await daemon.runtime.logs("edgeAgent", options: LogOptions()).collect())?.contains { $0.hasPrefix("Mode=") } == true })
        let env = try await daemon.runtime.logs("edgeAgent", options: LogOptions()).collect()
        let generation = try #require(await daemon.identities.identity(for: "edgeAgent")?.generationId)
        for expected in ["IOTEDGE_IOTHUBHOSTNAME=hub.example.com", "IOTEDGE_DEVICEID=edge1", "IOTEDGE_MODULEID=$edgeAgent",
                         "IOTEDGE_MODULEGENERATIONID=\(generation)", "IOTEDGE_WORKLOADURI=unix://\(dir.path)/workload.sock",
                         "IOTEDGE_MANAGEMENTURI=unix://\(dir.path)/mgmt.sock", "IOTEDGE_APIVERSION=2019-01-30",
                         "IOTEDGE_AUTHSCHEME=sasToken", "RuntimeLogLevel=debug", "EdgeDeviceHostName=edge-1", "Mode=iotedged"] {
            #expect(env.contains(expected), "edgeAgent's environment has \(expected)")
        }

        // edgeAgent dies: the watchdog starts it again.
        let first = try #require(await daemon.runtime.mainProcessID("edgeAgent"))
        kill(first, SIGKILL)
        #expect(await eventually {
            guard let pid = await daemon.runtime.mainProcessID("edgeAgent") else { return false }
            return pid != first
        })
        let second = try #require(await daemon.runtime.mainProcessID("edgeAgent"))
        #expect(log.messages.contains { $0.contains("edgeAgent is not running (killed by SIGKILL)") })

        // Stopped on request, it stays stopped.
        _ = await UnixHTTP.json(mgmt, "POST", "/modules/edgeAgent/stop")
        try await Task.sleep(nanoseconds: 500_000_000)
        #expect(try await daemon.runtime.module("edgeAgent").state.status == .stopped)
        _ = await UnixHTTP.json(mgmt, "POST", "/modules/edgeAgent/start")
        let third = try #require(await daemon.runtime.mainProcessID("edgeAgent"))
        #expect(third != second)

        running.cancel()
        try await running.value
        #expect(!processExists(third))
        #expect(!FileIO.exists(mgmt))
        #expect(!FileIO.exists(config.listen.workloadSocketPath))
        #expect(log.messages.contains { $0.contains("iotedged stopped") })
    }

    @Test func cachedIdentitiesAreUsedWhenTheHubCannotBeReached() async throws {
        let dir = TempDir()
        let cache = dir.file("identities.json")
        let online = IdentityStore(provider: StaticIdentityProvider(), cachePath: cache)
        let made = try await online.ensure("$edgeHub")
        let offline = IdentityStore(provider: StaticIdentityProvider(unreachable: true), cachePath: cache)
        #expect(try await offline.ensure("$edgeHub") == made)
        await #expect(throws: IdentityError.self) { try await offline.ensure("$edgeAgent") }
        #expect(await offline.identity(for: "edgeHub") == made)
    }

    @Test func moduleEnvironmentFollowsThePlan() {
        let env = ModuleEnvironment(hubHostname: "hub", deviceID: "d", gatewayHostname: "127.0.0.7",
                                    workloadURI: "unix:///w.sock", managementURI: "unix:///m.sock")
        let sensor = env.variables(for: "sensor", identity: ModuleIdentity(moduleId: "sensor", generationId: "42", primaryKey: "k"))
        let dict = Dictionary(uniqueKeysWithValues: sensor.map { ($0.key, $0.value) })
        #expect(dict == ["IOTEDGE_IOTHUBHOSTNAME": "hub", "IOTEDGE_DEVICEID": "d", "IOTEDGE_MODULEID": "sensor",
                         "IOTEDGE_MODULEGENERATIONID": "42", "IOTEDGE_WORKLOADURI": "unix:///w.sock",
                         "IOTEDGE_APIVERSION": "2019-01-30", "IOTEDGE_AUTHSCHEME": "sasToken",
                         "IOTEDGE_GATEWAYHOSTNAME": "127.0.0.7"])
        let hub = env.variables(for: "edgeHub", identity: nil)
        #expect(hub.contains(.init(key: "IOTEDGE_MODULEID", value: "$edgeHub")))
        #expect(!hub.contains { $0.key == "IOTEDGE_GATEWAYHOSTNAME" })
    }
}
