import ArgumentParser
import EdgeCheck
import EdgeDaemon
import Foundation

enum CheckOutput: String, ExpressibleByArgument, CaseIterable { case text, json }

/// `iotedge check`: IoT Edge 1.5's configuration and connectivity checks (EdgeCheck), with
/// edgelet's output, flags and exit status.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check for common config and deployment issues.",
        discussion: """
        Exits 1 when a check raised an error (or a warning, with --warnings-as-errors). \
        'iotedge check-list' lists the checks. Run it as root so that it can read the edge CA's key \
        and name the process holding edgeHub's ports.
        """)

    @OptionGroup var target: TargetOptions
    @Option(name: [.customShort("o"), .long], help: "Output format: text or json.") var output: CheckOutput = .text
    @Flag(help: "Show the details of every check, including those that passed or were skipped.") var verbose = false
    @Flag(help: "Treat warnings as errors: exit 1 when a check raised one.") var warningsAsErrors = false
    @Option(parsing: .upToNextOption, help: ArgumentHelp("Check IDs not to run (space- or comma-separated); see 'iotedge check-list'.", valueName: "ID"))
    var dontRun: [String] = []
    @Option(help: ArgumentHelp("The IoT Hub to test connections to, instead of the one in config.toml.", valueName: "hostname"))
    var iothubHostname: String?

    var dontRunIDs: Set<String> {
        Set(dontRun.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }

    func validate() throws {
        let unknown = CheckRunner(sections: AllChecks.sections, dontRun: dontRunIDs).unknownDontRun
        guard unknown.isEmpty else {
            throw ValidationError("--dont-run: no check has the id \(unknown.joined(separator: ", ")); 'iotedge check-list' lists them")
        }
        if let host = iothubHostname, Hostname.validate(host) != nil {
            throw ValidationError("--iothub-hostname \(host) is not a valid host name")
        }
    }

    func run() async throws {
        let edge = try EdgeTarget(target)
        var options = CheckContext.Options(configPath: edge.configPath, managementURI: target.host, iothubHostname: iothubHostname)
        options.timeout = 5
        let context = CheckContext(options: options)
        let runner = CheckRunner(sections: AllChecks.sections, dontRun: dontRunIDs)
        let text = CheckText(verbose: verbose, colour: output == .text && Table.isTerminal)
        var section: String?
        let report = await runner.run(context) { entry in
            guard output == .text else { return }
            if entry.section != section {
                if section != nil { print("") }
                section = entry.section
                print(text.heading(entry.section))
            }
            if let lines = text.render(entry) { print(lines) }
            fflush(stdout)
        }
        switch output {
        case .json: printJSON(report.json)
        case .text: print("\n" + text.summary(report))
        }
        let code = report.exitCode(warningsAsErrors: warningsAsErrors)
        if code != 0 { throw ExitCode(code) }
    }
}

/// `iotedge check-list`: the checks `iotedge check` runs, with their ids for --dont-run.
struct CheckList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-list",
        abstract: "List the checks 'iotedge check' runs, with the ids --dont-run takes.")

    @Option(name: [.customShort("o"), .long], help: "Output format: text or json.") var output: CheckOutput = .text
    @Flag(help: "Also say how to fix what each check finds.") var verbose = false

    func run() async throws {
        let sections = AllChecks.sections
        if output == .json {
            let list: [[String: String]] = sections.flatMap { s in
                s.checks.map { ["id": $0.id, "description": $0.description, "fix": $0.fix, "section": s.name] }
            }
            printJSON(list)
            return
        }
        var blocks: [String] = []
        for s in sections {
            let body = verbose
                ? s.checks.map { "\($0.id)\n    \($0.description)\n    fix: \($0.fix)" }.joined(separator: "\n")
                : Table.render(["ID", "DESCRIPTION"], s.checks.map { [$0.id, $0.description] })
            blocks.append(s.name + "\n" + String(repeating: "-", count: s.name.count) + "\n" + body)
        }
        print(blocks.joined(separator: "\n\n"))
    }
}
