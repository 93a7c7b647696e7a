import Foundation
import Logging
import Testing
@testable import EdgeDaemon

/// The `iotedged` executable as a user runs it (built next to the test bundle by `swift build`
/// / `swift test`): `--check-config` on good and bad files, and the daemon's log line format.
@Suite("iotedged", .timeLimit(.minutes(1)))
struct IoTEdgedCommandTests {
    static let binary: String? = {
        let dir = ExecutableResolver.ownDirectory ?? ""
        let candidates = [dir + "/iotedged", FileIO.dirname(of: dir) + "/iotedged"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static func run(_ arguments: [String]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary!)
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    static func config(hostname: String, dir: TempDir) -> String {
        let path = dir.file("config.toml")
        try! FileIO.write("""
        hostname = "\(hostname)"
        homedir = "\(dir.path)"

        [provisioning]
        source = "manual"
        connection_string = "HostName=hub.example.com;DeviceId=edge1;SharedAccessKey=YXppb3QtaWRlbnRpdHktc2VydmljZXxhemlvdC1pZGU="

        [agent]
        name = "edgeAgent"
        type = "process"
        [agent.config]
        image = "edge-agent"
        """, to: path, mode: 0o644)
        return path
    }

    @Test(.enabled(if: binary != nil, "needs the iotedged executable (swift build)"))
    func checkConfigAcceptsAGoodFile() throws {
        let dir = TempDir()
        let path = Self.config(hostname: "edge-1", dir: dir)
        let (status, out, _) = try Self.run(["--config", path, "--check-config"])
        #expect(status == 0)
        #expect(out.contains("the configuration is valid"))
        #expect(out.contains("device edge1 on hub hub.example.com"))
        #expect(out.contains("listen unix://\(dir.path)/mgmt.sock"))
    }

    /// Seed 000, "IoT Edge security daemon fails with an invalid hostname", on Outpost.
    @Test(.enabled(if: binary != nil, "needs the iotedged executable (swift build)"))
    func aHostnameOver64CharactersStopsTheDaemonWithTheSeedsMessage() throws {
        let dir = TempDir()
        let path = Self.config(hostname: String(repeating: "h", count: 65), dir: dir)
        for arguments in [["--config", path, "--check-config"], ["--config", path]] {
            let (status, _, err) = try Self.run(arguments)
            #expect(status == 1)
            #expect(err.contains("\(path):1: Error parsing user input data: invalid hostname. Hostname cannot be empty or greater than 64 characters"))
            #expect(err.contains("fix: Set hostname"))
        }
    }

    @Test func daemonLogLinesAreInEdgeletsShape() async throws {
        let dir = TempDir()
        let file = RotatingLogFile(path: dir.file("logs/iotedged.log"))
        let logger = Logger(label: "iotedged") { DaemonLogHandler(label: $0, level: LogLevelSetting(.info), file: file, toStderr: false) }
        logger.info("Starting Outpost IoT Edge security daemon (iotedged)")
        logger.warning("edgeAgent is not running")
        logger.debug("not at info")
        file.close()
        let lines = FileIO.readText(dir.file("logs/iotedged.log"))!.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines[0].hasSuffix(" [INFO] - Starting Outpost IoT Edge security daemon (iotedged)"))
        #expect(lines[1].hasSuffix(" [WARN] - edgeAgent is not running"))
        #expect(RFC3339.parse(lines[0].split(separator: " ")[0]) != nil)
    }
}
