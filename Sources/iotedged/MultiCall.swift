import EdgeAgentProgram
import EdgeHubProgram

/// One executable, three programs (as busybox): started as `edge-agent` or `edge-hub` (the
/// basename of argv[0]) it is that system module, otherwise the daemon. iotedged starts
/// edgeAgent and edgeHub from its own executable under those names, so the three processes map
/// one file and share its text in the page cache instead of each loading its own copy of NIO,
/// NIOSSL, Foundation and the rest.
@main
enum MultiCall {
    /// The programs besides the daemon, by the name that selects them.
    static let programs: [String: @Sendable () async -> Void] = [
        "edge-agent": { await EdgeAgentProgram.main() },
        "edge-hub": { await EdgeHubProgram.main() },
    ]

    static func main() async {
        let name = CommandLine.arguments.first.map { String($0.split(separator: "/").last ?? "") } ?? ""
        if let program = programs[name] {
            await program()
        } else {
            await IoTEdged.main()
        }
    }
}
