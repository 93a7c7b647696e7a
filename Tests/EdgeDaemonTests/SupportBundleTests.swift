import Foundation
import Testing
import Twin
import ZIPFoundation
@testable import EdgeDaemon

/// The support bundle's zip: which files it has and what is in them, built from a data
/// directory made here (logs with known times, edgeAgent's storage, a config with a key).
@Suite("support bundle", .timeLimit(.minutes(2)))
struct SupportBundleTests {
    static let key = "c2VjcmV0LWRldmljZS1rZXktMTIzNDU2Nzg5MA=="

    /// The modules of a device as the management API lists them; logs from the log files.
    struct FakeSource: SupportBundleSource {
        let logDirectory: String
        var summary: String { "test modules" }
        func modules() async throws -> [ModuleDetailsJSON] {
            ["edgeAgent", "edgeHub", "sensor"].map { name in
                ModuleDetailsJSON(ModuleDetails(spec: ModuleSpec(name: name, image: name == "sensor" ? "/opt/sensor" : "edge-x",
                                                                 env: [EnvironmentVariable(key: "SensorPassword", value: "pw-in-env")]),
                                                state: ModuleState(status: .running, description: "running", startTime: RFC3339.now() - 90)))
            }
        }
        func logs(of module: String, options: LogOptions) async throws -> [UInt8] {
            try await LogFileBundleSource(logDirectory: logDirectory, daemonProblem: "").logs(of: module, options: options)
        }
        func daemonStatus() async -> SystemStatus? { nil }
    }

    final class Device {
        let dir = TempDir()
        var home: String { dir.file("home") }
        var logs: String { dir.file("home/logs") }
        let now = RFC3339.now()
        let config: EdgeConfig

        init() throws {
            try FileIO.makeDirectories(dir.file("home/logs"))
            try FileIO.makeDirectories(dir.file("home/storage/edgeAgent"))
            try FileIO.write("""
            hostname = "gw.local"
            homedir = "\(dir.file("home"))"
            [provisioning]
            source = "manual"
            connection_string = "HostName=hub.example;DeviceId=gw1;SharedAccessKey=\(SupportBundleTests.key)"
            """, to: dir.file("config.toml"))
            config = EdgeConfig(file: dir.file("config.toml"), hostname: "gw.local", homeDirectory: dir.file("home"),
                                provisioning: .init(iothubHostname: "hub.example", deviceID: "gw1", deviceKey: SupportBundleTests.key))
            for name in ["edgeAgent", "edgeHub", "sensor", "removed-module"] {
                let log = RotatingLogFile(path: FileIO.join(logs, "\(name).log"))
                log.write(line: "\(name): an old line", time: now - 3 * 86_400)
                log.write(line: "\(name): a recent line", time: now - 60)
                log.close()
            }
            let daemon = RotatingLogFile(path: FileIO.join(logs, "iotedged.log"))
            daemon.write(line: "[INFO] iotedged - a recent daemon line", time: now - 30)
            daemon.close()
            try FileIO.write(#"{"$version": 3, "runtime": {"settings": {"registryCredentials": {"r": {"username": "u", "password": "registry-pw"}}}}, "modules": {}}"#,
                             to: dir.file("home/storage/edgeAgent/deployment.json"))
        }

        func bundle(edgeOnly: Bool = false, check: CheckRunner) -> SupportBundle {
            SupportBundle(options: .init(since: now - 3600, edgeRuntimeOnly: edgeOnly), configPath: config.file, config: config,
                          source: FakeSource(logDirectory: logs), check: check)
        }
    }

    /// The zip's entries by name, as text.
    static func unzip(_ bytes: [UInt8]) throws -> [String: String] {
        let archive = try Archive(data: Data(bytes), accessMode: .read)
        var out: [String: String] = [:]
        for entry in archive {
            var data = Data()
            _ = try archive.extract(entry) { data.append($0) }
            out[entry.path] = String(decoding: data, as: UTF8.self)
        }
        return out
    }

    static func make(_ bundle: SupportBundle) async throws -> (files: [String: String], info: BundleInfo, progress: [String]) {
        let zip = try ZipBundleWriter()
        let lines = LinesBox()
        let info = await bundle.write(to: zip) { lines.append($0) }
        let bytes = try #require(zip.finish())
        #expect(bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]))
        return (try unzip(bytes), info, lines.lines)
    }

    final class LinesBox: @unchecked Sendable {
        var lines: [String] = []
        func append(_ s: String) { lines.append(s) }
    }

    @Test func theZipHoldsEveryPartForTheWindow() async throws {
        let device = try Device()
        let check = device.dir.script("iotedge", #"echo '{"additional_info": {"argv": "'"$*"'"}, "checks": {"config-yaml-well-formed": {"result": "Ok"}}}'; exit 1"#)
        let (files, info, progress) = try await Self.make(device.bundle(check: CheckRunner(executable: check)))

        for name in ["modules.json", "list.txt", "logs/edgeAgent.log", "logs/edgeHub.log", "logs/sensor.log", "logs/removed-module.log",
                     "logs/iotedged.log", "check.json", "config.toml", "edgeAgent/deployment.json", "systeminfo.json", "bundle-info.json"] {
            #expect(files[name] != nil, "\(name) missing; the zip has \(files.keys.sorted())")
        }
        // Only the window's lines, with the time each was captured.
        let sensor = try #require(files["logs/sensor.log"])
        #expect(sensor.contains("sensor: a recent line") && !sensor.contains("an old line"))
        #expect(sensor.hasPrefix(RFC3339.format(device.now - 60).prefix(16)))
        #expect(files["logs/iotedged.log"]?.contains("a recent daemon line") == true)
        // check ran with the config; its non-zero exit (a failed check) still gives check.json.
        let checkJSON = try JSONValue(parsing: try #require(files["check.json"]))
        #expect(checkJSON.value(at: ["additional_info", "argv"])?.stringValue == "check --output json --config \(device.config.file) --iothub-hostname hub.example")
        // No secret anywhere in the zip.
        for (name, text) in files {
            for secret in [Self.key, "registry-pw", "pw-in-env"] { #expect(!text.contains(secret), "\(secret) in \(name)") }
        }
        #expect(files["config.toml"]?.contains("HostName=hub.example;DeviceId=gw1;SharedAccessKey=<redacted>") == true)
        let deployment = try JSONValue(parsing: try #require(files["edgeAgent/deployment.json"]))
        #expect(deployment.value(at: ["runtime", "settings", "registryCredentials", "r", "username"])?.stringValue == "u")
        #expect(files["list.txt"]?.split(separator: "\n").first?.hasPrefix("NAME") == true)
        #expect(files["list.txt"]?.contains("Up 1 minute") == true)

        let facts = try JSONValue(parsing: try #require(files["systeminfo.json"]))
        #expect(facts.value(at: ["dataDirectoryDisk", "path"])?.stringValue == device.home)
        #expect((facts.value(at: ["dataDirectoryDisk", "totalBytes"])?.numberValue ?? 0) > 0)
        #expect((facts.value(at: ["memory", "totalBytes"])?.numberValue ?? 0) > 0)
        #expect(facts.value(at: ["system", "kernel_version"])?.stringValue?.isEmpty == false)

        let bundleInfo = try JSONValue(parsing: try #require(files["bundle-info.json"]))
        #expect(bundleInfo.value(at: ["window", "since"])?.stringValue == RFC3339.format(device.now - 3600, fractionDigits: 0))
        #expect(bundleInfo["deviceId"]?.stringValue == "gw1")
        #expect(Set(bundleInfo["files"]?.arrayValue?.compactMap(\.stringValue) ?? []) == Set(files.keys))
        // deployed.json was never written by this "agent": said, not failed.
        #expect(info.problems.contains { $0.hasPrefix("edgeAgent/deployed.json") })
        #expect(progress.contains { $0.hasPrefix("Writing logs/sensor.log (1 lines)") })
        #expect(progress.contains("Running iotedge check --output json"))
    }

    @Test func edgeRuntimeOnlyKeepsTheAgentTheHubAndTheDaemon() async throws {
        let device = try Device()
        let (files, _, _) = try await Self.make(device.bundle(edgeOnly: true, check: CheckRunner(executable: nil)))
        let logs = files.keys.filter { $0.hasPrefix("logs/") }.sorted()
        #expect(logs == ["logs/edgeAgent.log", "logs/edgeHub.log", "logs/iotedged.log"])
        let modules = try JSONValue(parsing: try #require(files["modules.json"]))
        #expect(modules["modules"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["edgeAgent", "edgeHub"])
        #expect(files["list.txt"]?.contains("sensor") == false)
    }

    @Test func aMissingOrFailingCheckIsExplainedInsteadOfFailingTheBundle() async throws {
        let device = try Device()
        let (files, info, _) = try await Self.make(device.bundle(check: CheckRunner(executable: nil)))
        #expect(files["check.json"] == nil)
        #expect(files["check.txt"]?.contains("found neither beside") == true)
        #expect(info.problems.contains { $0.hasPrefix("check.json:") })

        let broken = device.dir.script("broken-iotedge", "echo 'error: unexpected argument check' >&2; exit 64")
        let text = try #require(try await Self.make(device.bundle(check: CheckRunner(executable: broken))).files["check.txt"])
        #expect(text.contains("exited with status 64") && text.contains("unexpected argument check"))

        let slow = device.dir.script("slow-iotedge", "sleep 30")
        let timedOut = try await Self.make(device.bundle(check: CheckRunner(executable: slow, timeout: 0.5))).files
        #expect(timedOut["check.txt"]?.contains("did not finish within 0.5 s") == true)
    }

    @Test func withoutTheDaemonTheLogFilesAreStillBundled() async throws {
        let device = try Device()
        let bundle = SupportBundle(options: .init(since: device.now - 3600), configPath: device.config.file, config: device.config,
                                   source: LogFileBundleSource(logDirectory: device.logs, daemonProblem: "nothing answers on mgmt.sock"),
                                   check: CheckRunner(executable: nil))
        let (files, info, _) = try await Self.make(bundle)
        #expect(files["logs/edgeAgent.log"]?.contains("edgeAgent: a recent line") == true)
        #expect(files["logs/iotedged.log"] != nil && files["modules.json"] == nil)
        #expect(files["list.txt"]?.contains("nothing answers on mgmt.sock") == true)
        #expect(info.problems.contains { $0.contains("nothing answers on mgmt.sock") })
    }

    @Test func theManagementAPIAnswersTheZip() async throws {
        let device = try Device()
        let runtime = ProcessRuntime(configuration: .init(logDirectory: device.logs))
        let config = device.config
        let api = ManagementAPI(runtime: runtime, identities: nil, systemInfo: .current(),
                                supportBundle: SupportBundleService(config: { config }, runtime: runtime, system: nil,
                                                                    check: CheckRunner(executable: nil)))
        let response = await api.handle(EdgeRequest(method: .GET, uri: "/systeminfo/supportbundle?since=2h&edge_runtime_only=true&api-version=2020-07-07"))
        #expect(response.status == .ok)
        #expect(response.headers["Content-Type"].first == "application/zip")
        guard case .bytes(let bytes) = response.body else { Issue.record("not a whole body"); return }
        let files = try Self.unzip(bytes)
        #expect(files["logs/edgeAgent.log"]?.contains("a recent line") == true)
        #expect(files["logs/sensor.log"] == nil)
        #expect(try JSONValue(parsing: try #require(files["bundle-info.json"]))["edgeRuntimeOnly"] == .bool(true))

        let bad = await api.handle(EdgeRequest(method: .GET, uri: "/systeminfo/supportbundle?since=yesterday"))
        #expect(bad.status == .badRequest && bad.text.contains("invalid parameter: since"))
        let badFlag = await api.handle(EdgeRequest(method: .GET, uri: "/systeminfo/supportbundle?edge_runtime_only=maybe"))
        #expect(badFlag.status == .badRequest && badFlag.text.contains("edge_runtime_only"))
    }
}
