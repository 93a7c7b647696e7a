import ArgumentParser
import EdgeDaemon

/// `iotedge list`: the modules the runtime has, with their status, as `docker ps` shows them.
struct ListModules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the modules on this device: name, status, description (\"Up 3 minutes\", \"Backoff 20 seconds\") and config.")

    @OptionGroup var target: TargetOptions
    @Flag(help: "Print JSON (the management API's module details).") var json = false

    func run() async throws {
        let modules = try await EdgeTarget(target).client().modules().sorted { $0.name < $1.name }
        if json { printJSON(modules); return }
        let rows = modules.map { m in
            [m.name, m.status.listStatus ?? m.status.runtimeStatus.status, m.status.summary ?? m.status.runtimeStatus.description ?? "", m.config.image]
        }
        // Colour after aligning: escape codes would count as width.
        let text = Table.render(["NAME", "STATUS", "DESCRIPTION", "CONFIG"], rows)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if Table.isTerminal {
            for (i, row) in rows.enumerated() {
                lines[i + 1] = lines[i + 1].replacingFirst(row[1], with: StatusColour.paint(row[1]), after: row[0].count)
            }
        }
        print(lines.joined(separator: "\n"))
    }
}

extension String {
    /// The first `target` at or after character `offset` replaced.
    func replacingFirst(_ target: String, with replacement: String, after offset: Int) -> String {
        let start = index(startIndex, offsetBy: min(offset, count))
        guard let range = self[start...].range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
