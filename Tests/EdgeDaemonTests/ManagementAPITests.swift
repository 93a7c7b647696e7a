import Foundation
import Glibc
import Logging
import Testing
@testable import EdgeDaemon

/// The management API over a real unix socket, driven by a raw HTTP/1.1 client.
@Suite("management API", .timeLimit(.minutes(2)))
struct ManagementAPITests {
    final class Fixture {
        let dir = TempDir()
        let runtime: ProcessRuntime
        let server: UnixHTTPServer
        let identities: StaticIdentityProvider
        var socket: String { server.socketPath }

        init() async throws {
            runtime = ProcessRuntime(configuration: .init(logDirectory: dir.file("logs"), stopTimeout: 5,
                                                          resolver: ExecutableResolver(directories: [dir.path])))
            identities = StaticIdentityProvider([ModuleIdentity(moduleId: "$edgeAgent", generationId: "1", primaryKey: "a2V5a2V5a2V5a2V5a2V5a2V5")])
            let store = IdentityStore(provider: identities, cachePath: dir.file("identities.json"))
            server = UnixHTTPServer(socketPath: dir.file("mgmt.sock"),
                                    handler: ManagementAPI(runtime: runtime, identities: store, systemInfo: .current()))
            try await server.start()
        }

        func close() async {
            await runtime.stopAll()
            await server.stop()
        }
    }

    static func createBody(_ name: String, _ image: String, env: String = #"[{"key":"GREETING","value":"hi"}]"#) -> String {
        #"{"name":"\#(name)","type":"process","config":{"settings":{"image":"\#(image)","createOptions":"{\"Cmd\":[\"a1\"]}"},"env":\#(env)},"imagePullPolicy":"on-create"}"#
    }

    @Test func listCreateStartLogsStopDelete() async throws {
        let f = try await Fixture()
        let script = f.dir.script("counter", """
        echo "greeting=$GREETING arg=$1"
        i=1
        while [ $i -le 5 ]; do echo "count $i"; i=$((i+1)); done
        exec sleep 300
        """)
        var (status, json) = await UnixHTTP.json(f.socket, "GET", "/modules?api-version=2020-07-07")
        #expect(status == 200)
        #expect(json == .object(["modules": .array([])]))

        (status, json) = await UnixHTTP.json(f.socket, "POST", "/modules?api-version=2020-07-07", body: Self.createBody("counter", script))
        #expect(status == 201)
        #expect(json?["name"] == .string("counter"))
        #expect(json?["status"]?["runtimeStatus"]?["status"] == .string("stopped"))
        #expect(json?["config"]?["settings"]?["image"] == .string(script))
        #expect(json?["config"]?["image"] == .string(script))
        #expect(json?["config"]?["env"] == .array([.object(["key": .string("GREETING"), "value": .string("hi")])]))

        (status, _) = await UnixHTTP.json(f.socket, "POST", "/modules", body: Self.createBody("counter", script))
        #expect(status == 409)

        (status, _) = await UnixHTTP.json(f.socket, "POST", "/modules/counter/start?api-version=2020-07-07")
        #expect(status == 204)
        (status, json) = await UnixHTTP.json(f.socket, "GET", "/modules")
        let module = try #require(json?["modules"]?.arrayValue?.first)
        #expect(module["id"] == .string("counter"))
        #expect(module["type"] == .string("process"))
        #expect(module["status"]?["runtimeStatus"]?["status"] == .string("running"))
        let start = try #require(module["status"]?["startTime"]?.stringValue)
        #expect(RFC3339.parse(start) != nil)

        #expect(await eventually {
            let r = await UnixHTTP.request(f.socket, "GET", "/modules/counter/logs?tail=all")
            return r?.body.contains("count 5") == true
        })
        let all = try #require(await UnixHTTP.request(f.socket, "GET", "/modules/counter/logs?api-version=2020-07-07&follow=false"))
        #expect(all.status == 200)
        #expect(all.headers["content-type"]?.hasPrefix("text/plain") == true)
        #expect(all.body.split(separator: "\n").first == "greeting=hi arg=a1")
        let tail = try #require(await UnixHTTP.request(f.socket, "GET", "/modules/counter/logs?tail=2"))
        #expect(tail.body == "count 4\ncount 5\n")
        let stamped = try #require(await UnixHTTP.request(f.socket, "GET", "/modules/counter/logs?tail=1&timestamps=true"))
        #expect(RFC3339.parse(stamped.body.split(separator: " ")[0]) != nil)
        let future = try #require(await UnixHTTP.request(f.socket, "GET", "/modules/counter/logs?since=\(Int(RFC3339.now()) + 3600)"))
        #expect(future.body == "")
        let bad = try #require(await UnixHTTP.request(f.socket, "GET", "/modules/counter/logs?tail=lots"))
        #expect(bad.status == 400)
        #expect(bad.body.contains("invalid parameter: tail"))

        // follow streams: the answer is open, the lines come, the client hangs up.
        let followed = try #require(await UnixHTTP.request(f.socket, "GET", "/modules/counter/logs?tail=3&follow=true", timeout: 5, maxLines: 3))
        #expect(followed.body.split(separator: "\n").map(String.init) == ["count 3", "count 4", "count 5"])

        (status, _) = await UnixHTTP.json(f.socket, "POST", "/modules/counter/restart")
        #expect(status == 204)
        #expect(try await f.runtime.module("counter").state.startCount == 2)

        (status, _) = await UnixHTTP.json(f.socket, "POST", "/modules/counter/stop")
        #expect(status == 204)
        (status, json) = await UnixHTTP.json(f.socket, "GET", "/modules/counter")
        #expect(json?["status"]?["runtimeStatus"]?["status"] == .string("stopped"))
        #expect(json?["status"]?["exitStatus"]?["statusCode"] == .string("143"))
        #expect(json?["status"]?["exitStatus"]?["exitTime"]?.stringValue.flatMap(RFC3339.parse) != nil)

        (status, _) = await UnixHTTP.json(f.socket, "DELETE", "/modules/counter")
        #expect(status == 204)
        (status, json) = await UnixHTTP.json(f.socket, "GET", "/modules/counter")
        #expect(status == 404)
        #expect(json?["message"] == .string("No such module: counter"))
        await f.close()
    }

    @Test func updateWithStartAndTheManifestsEnvShape() async throws {
        let f = try await Fixture()
        let script = f.dir.script("envy", "echo \"mode=$MODE\"\nexec sleep 300")
        var (status, _) = await UnixHTTP.json(f.socket, "POST", "/modules", body: Self.createBody("envy", script, env: #"{"MODE":{"value":"one"}}"#))
        #expect(status == 201)
        (status, _) = await UnixHTTP.json(f.socket, "PUT", "/modules/envy?start=true",
                                          body: #"{"name":"envy","type":"process","config":{"image":"\#(script)","env":{"MODE":"two"}}}"#)
        #expect(status == 200)
        #expect(try await f.runtime.module("envy").state.status == .running)
        #expect(await eventually { await UnixHTTP.request(f.socket, "GET", "/modules/envy/logs")?.body == "mode=two\n" })
        (status, _) = await UnixHTTP.json(f.socket, "PUT", "/modules/envy", body: #"{"name":"other","config":{"image":"x"}}"#)
        #expect(status == 400)
        (status, _) = await UnixHTTP.json(f.socket, "POST", "/modules", body: "not json")
        #expect(status == 400)
        await f.close()
    }

    @Test func startingAModuleWhoseExecutableIsMissingAnswers500WithTheReason() async throws {
        let f = try await Fixture()
        _ = await UnixHTTP.json(f.socket, "POST", "/modules", body: Self.createBody("ghost", "/nope/ghost"))
        let (status, json) = await UnixHTTP.json(f.socket, "POST", "/modules/ghost/start")
        #expect(status == 500)
        #expect(json?["message"]?.stringValue?.contains("/nope/ghost does not exist") == true)
        let (_, details) = await UnixHTTP.json(f.socket, "GET", "/modules/ghost")
        #expect(details?["status"]?["runtimeStatus"]?["status"] == .string("failed"))
        await f.close()
    }

    @Test func systemInfoAndIdentities() async throws {
        let f = try await Fixture()
        var (status, json) = await UnixHTTP.json(f.socket, "GET", "/systeminfo?api-version=2020-07-07")
        #expect(status == 200)
        #expect(json?["osType"] == .string("linux"))
        #expect(json?["version"] == .string(EdgeDaemonVersion.text))
        #expect(json?["provisioning"]?["type"] == .string("manual"))
        #expect(json?["architecture"]?.stringValue?.isEmpty == false)

        (status, json) = await UnixHTTP.json(f.socket, "POST", "/identities/", body: #"{"moduleId":"filter","managedBy":"iotEdge"}"#)
        #expect(status == 200)
        #expect(json?["moduleId"] == .string("filter"))
        #expect(json?["authType"] == .string("Sas"))
        (status, json) = await UnixHTTP.json(f.socket, "GET", "/identities/")
        #expect(json?["identities"]?.arrayValue?.compactMap { $0["moduleId"]?.stringValue } == ["filter"])
        (status, _) = await UnixHTTP.json(f.socket, "DELETE", "/identities/filter")
        #expect(status == 204)
        #expect(try await f.identities.listModules().map(\.moduleId) == ["$edgeAgent"])

        (status, json) = await UnixHTTP.json(f.socket, "GET", "/nothing/here")
        #expect(status == 404)
        #expect(json?["message"]?.stringValue?.contains("No route") == true)
        await f.close()
    }
}
