import ArgumentParser
import EdgeDaemon
import Foundation

/// `iotedge exec MODULE printenv [NAME…]`: a module's environment as its process got it, as
/// `docker exec edgeAgent printenv` showed a container's (seed 002). Secrets are redacted by
/// the daemon. Only printenv is offered: modules are processes, not containers to enter.
struct ExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Print a module's environment: iotedge exec MODULE printenv [NAME…] (secrets redacted).")

    @OptionGroup var target: TargetOptions
    @Argument(help: "The module, as `iotedge list` names it.") var module: String
    @Argument(help: "printenv, optionally followed by variable names.") var command: [String]

    func validate() throws {
        guard command.first == "printenv" else {
            throw ValidationError("only printenv can be run: modules are processes, so `iotedge exec \(module) printenv` shows the environment its process was started with")
        }
    }

    func run() async throws {
        let answer = try await EdgeTarget(target).client().call(.GET, "/modules/\(percent(module))/env")
        guard case .array(let entries)? = answer["env"] else { throw CLIFailure("the daemon gave no environment for \(module)") }
        let wanted = Set(command.dropFirst())
        var missing = wanted
        for e in entries {
            guard let key = e["key"]?.stringValue, let value = e["value"]?.stringValue else { continue }
            if wanted.isEmpty { print("\(key)=\(value)") } else if wanted.contains(key) { print(value); missing.remove(key) }
        }
        if !missing.isEmpty { throw ExitCode(1) }
    }
}
