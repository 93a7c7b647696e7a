import Foundation
import Glibc
import Testing
@testable import EdgeDaemon

@Suite("process runtime", .timeLimit(.minutes(2)))
struct ProcessRuntimeTests {
    static func runtime(_ dir: TempDir, stopTimeout: Double = 10, logMaxBytes: Int = 10 << 20) -> ProcessRuntime {
        ProcessRuntime(configuration: .init(logDirectory: dir.file("logs"), logMaxBytes: logMaxBytes, stopTimeout: stopTimeout,
                                            resolver: ExecutableResolver(directories: [dir.path], searchPath: true)))
    }

    static func state(_ rt: ProcessRuntime, _ name: String) async -> ModuleState? {
        try? await rt.module(name).state
    }

    @Test func aScriptModuleLogsLinesWithTimestampsAndItsExitCodeIsRecorded() async throws {
        let dir = TempDir()
        let script = dir.script("talker", """
        echo "hello from $IOTEDGE_MODULEID"
        echo "to stderr" 1>&2
        echo "arg=$1 cwd=$(pwd) extra=$EXTRA from_env=$FROM_ENV"
        exit 3
        """)
        let rt = Self.runtime(dir)
        await rt.setEnvironmentProvider { spec in [EnvironmentVariable(key: "IOTEDGE_MODULEID", value: spec.name), .init(key: "FROM_ENV", value: "daemon")] }
        let before = RFC3339.now()
        try await rt.create(ModuleSpec(name: "talker", image: script,
                                       createOptions: .string(#"{"Cmd":["first"],"Env":["EXTRA=yes"],"WorkingDir":"/tmp","HostConfig":{}}"#),
                                       env: [.init(key: "FROM_ENV", value: "deployment")]))
        #expect(await Self.state(rt, "talker")?.status == .stopped)
        try await rt.start("talker")
        #expect(await eventually { await Self.state(rt, "talker")?.status == .failed })
        let s = try #require(await Self.state(rt, "talker"))
        #expect(s.exitCode == 3)
        #expect(s.description == "exited with code 3")
        #expect(s.pid == nil)
        #expect(try #require(s.startTime) >= before - 1)
        #expect(try #require(s.exitTime) >= s.startTime!)

        // Output may arrive a moment after the exit is seen.
        var lines: [String] = []
        _ = await eventually {
            lines = (try? await rt.logs("talker", options: LogOptions(timestamps: true)).collect()) ?? []
            return lines.count >= 4
        }
        let texts = lines.map { String($0.split(separator: " ", maxSplits: 1)[1]) }
        #expect(texts.contains("hello from talker"))
        #expect(texts.contains("to stderr"))
        #expect(texts.contains("arg=first cwd=/tmp extra=yes from_env=deployment"))
        #expect(texts.contains { $0.contains("exited with code 3") })
        for line in lines {
            let stamp = String(line.split(separator: " ")[0])
            let t = try #require(RFC3339.parse(stamp), "no RFC 3339 time in \(line)")
            #expect(t >= before - 1 && t <= RFC3339.now() + 1)
        }
        let plain = try await rt.logs("talker", options: LogOptions()).collect()
        #expect(plain.contains("hello from talker"))
        #expect(try await rt.logs("talker", options: LogOptions(tail: 1)).collect().count == 1)
    }

    static func threadCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0
    }

    @Test func twentyModulesAreWatchedByOneThreadEachKeepingItsOwnOutputAndExitCode() async throws {
        let dir = TempDir()
        // Output in pieces, with a line left unterminated at exit, while the others write too.
        let script = dir.script("chatter", """
        for i in 1 2 3; do echo "$IOTEDGE_MODULEID line $i"; sleep 0.05; done
        printf "$IOTEDGE_MODULEID last"
        sleep 1
        exit $CODE
        """)
        let rt = Self.runtime(dir)
        await rt.setEnvironmentProvider { spec in [EnvironmentVariable(key: "IOTEDGE_MODULEID", value: spec.name)] }
        let names = (0..<20).map { "m\($0)" }
        for (i, name) in names.enumerated() {
            try await rt.create(ModuleSpec(name: name, image: script, env: [.init(key: "CODE", value: "\(i % 7 + 1)")]))
        }
        // One module first, so that the watcher's thread exists before the count is taken.
        try await rt.start(names[0])
        try await Task.sleep(for: .milliseconds(200))
        let before = Self.threadCount()
        for name in names.dropFirst() { try await rt.start(name) }
        let during = Self.threadCount()
        // Two threads a module before (38 here); other tests running meanwhile may add a few.
        #expect(during - before < 19, "\(during - before) more threads for 19 running modules")
        for (i, name) in names.enumerated() {
            #expect(await eventually { await Self.state(rt, name)?.status == .failed })
            #expect(await Self.state(rt, name)?.exitCode == Int32(i % 7 + 1))
            var lines: [String] = []
            _ = await eventually {
                lines = (try? await rt.logs(name, options: LogOptions()).collect()) ?? []
                return lines.count >= 5
            }
            #expect(Array(lines.prefix(4)) == ["\(name) line 1", "\(name) line 2", "\(name) line 3", "\(name) last"], "\(lines)")
        }
    }

    @Test func stopKillsTheWholeProcessGroupAndRecordsTheStop() async throws {
        let dir = TempDir()
        let childFile = dir.file("child.pid")
        let script = dir.script("parent", """
        sleep 300 &
        echo $! > \(childFile)
        echo started
        wait
        """)
        let rt = Self.runtime(dir, stopTimeout: 5)
        try await rt.create(ModuleSpec(name: "parent", image: script))
        try await rt.start("parent")
        let pid = try #require(await rt.mainProcessID("parent"))
        #expect(await eventually { FileIO.readText(childFile)?.contains("\n") == true })
        let child = try #require(pid_t(FileIO.readText(childFile)!.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(getpgid(child) == pid, "the module's child is in the module's process group")
        #expect(processExists(child))

        try await rt.stop("parent", timeout: nil)
        let s = try #require(await Self.state(rt, "parent"))
        #expect(s.status == .stopped)
        #expect(s.stoppedOnRequest)
        #expect(s.exitCode == 128 + SIGTERM)
        #expect(await rt.mainProcessID("parent") == nil)
        #expect(await eventually(5) { !processExists(child) }, "the forked child died with the module")
        #expect(!processExists(pid))
    }

    @Test func aModuleThatIgnoresSIGTERMGetsSIGKILLAfterTheGracePeriod() async throws {
        let dir = TempDir()
        let script = dir.script("stubborn", """
        trap '' TERM
        echo ready
        while true; do sleep 0.1; done
        """)
        let rt = Self.runtime(dir, stopTimeout: 1)
        try await rt.create(ModuleSpec(name: "stubborn", image: script))
        try await rt.start("stubborn")
        #expect(await eventually { (try? await rt.logs("stubborn", options: LogOptions()).collect())?.contains("ready") == true })
        let began = RFC3339.now()
        try await rt.stop("stubborn", timeout: nil)
        let took = RFC3339.now() - began
        let s = try #require(await Self.state(rt, "stubborn"))
        #expect(s.exitCode == 128 + SIGKILL)
        #expect(s.status == .stopped)
        #expect(took >= 0.9 && took < 8)
    }

    @Test func restartGivesANewProcessAndCountsTheStart() async throws {
        let dir = TempDir()
        let script = dir.script("sleeper", "echo up $$\nexec sleep 300")
        let rt = Self.runtime(dir)
        try await rt.create(ModuleSpec(name: "sleeper", image: script))
        try await rt.start("sleeper")
        let first = try #require(await rt.mainProcessID("sleeper"))
        try await rt.restart("sleeper")
        let second = try #require(await rt.mainProcessID("sleeper"))
        #expect(first != second)
        #expect(!processExists(first))
        #expect(await Self.state(rt, "sleeper")?.startCount == 2)
        #expect(await Self.state(rt, "sleeper")?.status == .running)
        await rt.stopAll()
        #expect(await Self.state(rt, "sleeper")?.status == .stopped)
        #expect(!processExists(second))
    }

    @Test func aMissingExecutableFailsToStartWithAClearReason() async throws {
        let dir = TempDir()
        let rt = Self.runtime(dir)
        try await rt.create(ModuleSpec(name: "ghost", image: "/nonexistent/module"))
        await #expect(throws: RuntimeError.self) { try await rt.start("ghost") }
        let s = try #require(await Self.state(rt, "ghost"))
        #expect(s.status == .failed)
        #expect(s.description.contains("/nonexistent/module does not exist"))
        try await rt.create(ModuleSpec(name: "named", image: "mcr.microsoft.com/azureiotedge-simulated-temperature-sensor:1.5"))
        do { try await rt.start("named"); Issue.record("expected a failure") } catch {
            #expect(error.description.contains("no executable \"simulated-temperature-sensor\""))
        }
    }

    @Test func namesAreLookedUpAndImagesMapToOutpostExecutables() throws {
        let dir = TempDir()
        let agent = dir.script("edge-agent", "exit 0")
        let resolver = ExecutableResolver(directories: [dir.path], searchPath: false)
        #expect(try resolver.resolve("edge-agent").get() == .init(path: agent, argv0: agent))
        #expect(try resolver.resolve("mcr.microsoft.com/azureiotedge-agent:1.5").get() == .init(path: agent))
        #expect(ExecutableResolver.name(ofImage: "mcr.microsoft.com/azureiotedge-hub@sha256:abc") == "edge-hub")
        #expect(ExecutableResolver.name(ofImage: "myregistry.io/team/filter:2") == "filter")
        #expect(try ExecutableResolver(directories: [], searchPath: true).resolve("sh").get().path.hasSuffix("/sh"))
    }

    /// iotedged's own programs: `edge-hub` (or Azure's hub image) runs the daemon's executable
    /// as argv[0] `edge-hub`, even with an `edge-hub` file beside it; other names and absolute
    /// paths are looked up as before.
    @Test func theDaemonsOwnProgramsRunItsExecutableUnderTheirName() throws {
        let dir = TempDir()
        let agent = dir.script("edge-agent", "exit 0")
        let hub = dir.script("edge-hub", "exit 0")
        let resolver = ExecutableResolver(directories: [dir.path], searchPath: false,
                                          ownPrograms: ["edge-hub"], ownExecutable: "/opt/outpost/iotedged")
        #expect(try resolver.resolve("edge-hub").get() == .init(path: "/opt/outpost/iotedged", argv0: "edge-hub"))
        #expect(try resolver.resolve("mcr.microsoft.com/azureiotedge-hub:1.5").get() == .init(path: "/opt/outpost/iotedged", argv0: "edge-hub"))
        #expect(try resolver.resolve(hub).get() == .init(path: hub))
        #expect(try resolver.resolve("edge-agent").get() == .init(path: agent))
        var noOwn = resolver
        noOwn.ownExecutable = nil
        #expect(try noOwn.resolve("edge-hub").get() == .init(path: hub))
    }

    /// The process gets the resolver's argv[0], not the path: /bin/sh started as `fake-hub`
    /// says so in `$0` (with and without a WorkingDir, which takes another spawn path).
    @Test func aModuleRunUnderAnotherNameSeesItAsArgv0() async throws {
        let dir = TempDir()
        let rt = ProcessRuntime(configuration: .init(logDirectory: dir.file("logs"), resolver: ExecutableResolver(
            directories: [dir.path], searchPath: false, ownPrograms: ["fake-hub"], ownExecutable: "/bin/sh")))
        try await rt.create(ModuleSpec(name: "plain", image: "fake-hub", createOptions: .string(#"{"Cmd":["-c","echo argv0=$0"]}"#)))
        try await rt.create(ModuleSpec(name: "cwd", image: "fake-hub",
                                       createOptions: .string(#"{"Cmd":["-c","echo argv0=$0 cwd=$(pwd)"],"WorkingDir":"/tmp"}"#)))
        try await rt.start("plain")
        try await rt.start("cwd")
        #expect(await eventually { (try? await rt.logs("plain", options: LogOptions()).collect())?.contains("argv0=fake-hub") == true })
        #expect(await eventually { (try? await rt.logs("cwd", options: LogOptions()).collect())?.contains("argv0=fake-hub cwd=/tmp") == true })
    }

    @Test func updateReplacesTheSpecAndRemoveForgetsTheModule() async throws {
        let dir = TempDir()
        let one = dir.script("one", "echo one\nexec sleep 300")
        let two = dir.script("two", "echo two\nexec sleep 300")
        let rt = Self.runtime(dir)
        try await rt.create(ModuleSpec(name: "m", image: one))
        await #expect(throws: RuntimeError.alreadyExists("m")) { try await rt.create(ModuleSpec(name: "m", image: one)) }
        try await rt.start("m")
        try await rt.update(ModuleSpec(name: "m", image: two), start: true)
        #expect(try await rt.module("m").spec.image == two)
        #expect(await eventually { (try? await rt.logs("m", options: LogOptions()).collect())?.contains("two") == true })
        let pid = try #require(await rt.mainProcessID("m"))
        try await rt.remove("m")
        #expect(!processExists(pid))
        await #expect(throws: RuntimeError.notFound("m")) { try await rt.module("m") }
        #expect(await rt.list().isEmpty)
        await #expect(throws: RuntimeError.self) { try await rt.create(ModuleSpec(name: "bad/name", image: one)) }
    }

    @Test func logsRotateBySizeAndReadAcrossFiles() async throws {
        let dir = TempDir()
        let path = dir.file("logs/m.log")
        let log = RotatingLogFile(path: path, maxBytes: 1024, maxFiles: 3)
        let base = 1_800_000_000.0
        for i in 0..<60 { log.write(line: "line \(i) " + String(repeating: "x", count: 40), time: base + Double(i)) }
        log.close()
        let files = RotatingLogFile.files(of: path)
        #expect(files == [path + ".2", path + ".1", path])
        for f in files { #expect(FileIO.size(f)! <= 1024) }
        let all = await ModuleLogReader.lines(path: path, options: LogOptions()).collect()
        #expect(all.count < 60, "the oldest lines were rotated away")
        #expect(all.last?.hasPrefix("line 59 ") == true)
        let numbers = all.map { Int($0.split(separator: " ")[1])! }
        #expect(numbers == Array(numbers.first!...59), "lines come in order across the files")

        let window = await ModuleLogReader.lines(path: path, options: LogOptions(since: base + 50, until: base + 55)).collect()
        #expect(window.map { Int($0.split(separator: " ")[1])! } == [50, 51, 52, 53, 54, 55])
        let tail = await ModuleLogReader.lines(path: path, options: LogOptions(since: base + 40, tail: 3, timestamps: true)).collect()
        #expect(tail.count == 3)
        #expect(tail[0].hasPrefix(RFC3339.format(base + 57)))
    }

    @Test func followGoesOnReadingAsTheFileGrows() async throws {
        let dir = TempDir()
        let path = dir.file("logs/f.log")
        let log = RotatingLogFile(path: path, maxBytes: 200, maxFiles: 2)
        log.write(line: "old")
        let lines = ModuleLogReader.lines(path: path, options: LogOptions(tail: 1, follow: true))
        let reader = Task { () -> [String] in
            var got: [String] = []
            for await line in lines {
                got.append(line)
                if got.count == 4 { break }
            }
            return got
        }
        try await Task.sleep(nanoseconds: 300_000_000)
        log.write(line: "new 1")
        log.write(line: "new 2 " + String(repeating: "y", count: 150))
        log.write(line: "new 3 after rotation")
        let got = await reader.value
        #expect(got.count == 4)
        #expect(got[0] == "old")
        #expect(got[1] == "new 1")
        #expect(got[3] == "new 3 after rotation")
    }

    @Test func rfc3339RoundTrips() {
        let t = 1_764_000_000.123456
        let text = RFC3339.format(t)
        #expect(text == "2025-11-24T16:00:00.123456Z")
        #expect(abs(RFC3339.parse(text)! - t) < 0.000_01)
        #expect(RFC3339.parse("2025-11-24T17:00:00+01:00") == 1_764_000_000)
        #expect(RFC3339.parse("yesterday") == nil)
        let ago = ManagementAPI.time("1h30m", now: 10_000)
        #expect(ago == 4600.0, "1h30m before 10000 is \(String(describing: ago))")
        #expect(ManagementAPI.time("1764000000") == 1_764_000_000)
        #expect(ManagementAPI.time("soon") == nil)
    }
}
