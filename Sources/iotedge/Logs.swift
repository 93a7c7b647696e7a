import ArgumentParser
import EdgeDaemon
import Foundation

/// `iotedge logs MODULE [--since] [--until] [--tail] [-f]`, from the daemon's capture of the
/// module's stdout and stderr.
struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a module's logs (what it wrote to stdout and stderr).",
        discussion: "Times are a duration before now (90s, 10m, 1h30m, 2d), RFC 3339 (2026-11-25T10:00:00Z) or unix seconds.")

    @OptionGroup var target: TargetOptions
    @Argument(help: "The module, as `iotedge list` names it.") var module: String
    @Option(help: "Only lines since this time (default: 1 day ago).") var since: String = "1d"
    @Option(help: "Only lines up to this time.") var until: String?
    @Option(help: "Only the last N lines, or all.") var tail: String = "all"
    @Flag(name: [.customShort("f"), .long], help: "Keep printing lines as the module writes them.") var follow = false
    @Flag(name: [.customShort("t"), .long], help: "Show the time the daemon captured each line.") var timestamps = false

    func validate() throws {
        for (name, value) in [("--since", since), ("--until", until)] {
            if let value, ManagementAPI.time(value) == nil {
                throw ValidationError("\(name) \(value): use a duration (90s, 10m, 1h), RFC 3339 or unix seconds")
            }
        }
        if tail != "all", Int(tail).map({ $0 < 0 }) ?? true { throw ValidationError("--tail \(tail): use a number of lines or all") }
    }

    func run() async throws {
        var query = "since=\(percent(since))&tail=\(tail)&follow=\(follow)&timestamps=\(timestamps)"
        if let until { query += "&until=\(percent(until))" }
        let client = try EdgeTarget(target).client()
        try await client.stream("/modules/\(percent(module))/logs?\(query)") { chunk in
            chunk.withUnsafeReadableBytes { _ = fwrite($0.baseAddress, 1, $0.count, stdout) }
            fflush(stdout)
        }
    }
}

func percent(_ s: String) -> String {
    s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
}
