import ArgumentParser
import Foundation
import NIOCore

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Query the hub's resource logs and metrics with KQL.",
        subcommands: [Query.self])

    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a KQL query over AzureDiagnostics and AzureMetrics and print the result.",
            discussion: """
                AzureDiagnostics has one row per resource-log record (TimeGenerated, Category, \
                OperationName, Level, ResultType, ResultDescription, DurationMs, DeviceId, Protocol, \
                …); AzureMetrics one row per metric per minute (MetricName, Total, Count, Minimum, \
                Maximum, Average); `search *` reads both. Columns print in the result's order; on a \
                terminal long cells are cut to fit, so use --json to see every character. A syntax \
                error prints the hub's message, a caret under the error, and exits 1. Examples:

                  iothub logs query 'search *
                    | where ( Type == "AzureDiagnostics" and ResourceType == "IOTHUBS")
                    | where ( Category == "Connections" and Level == "Error")'
                  iothub logs query 'AzureDiagnostics | where DeviceId == "sensor-1"' --json
                  iothub logs query 'AzureMetrics | where MetricName == "connectedDeviceCount"'
                """)
        @Argument(help: ArgumentHelp("The KQL query, in single quotes for the shell.", valueName: "query")) var query: String
        @OptionGroup var outputOptions: OutputOptions
        @OptionGroup var hub: HubLogin

        func validate() throws {
            guard !query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw ValidationError("The query is empty.") }
        }

        func run() async throws {
            let answer: Any
            do {
                answer = try await hub.withClient {
                    try await $0.json(.POST, HubClient.outpostPath("logs", "query"), body: ["query": query], timeout: .seconds(120))
                }
            } catch let error as CLIError where error.status == 400 && error.hubMessage != nil {
                // The query line, a caret line and what was expected: printed as the hub wrote
                // it, without "Error: " in front, so that the caret stays under its column.
                let message = error.hubMessage!
                FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
                throw ExitCode.failure
            }
            let tables = (answer as? [String: Any])?["tables"] as? [[String: Any]] ?? []
            guard let table = tables.first(where: { $0["name"] as? String == "PrimaryResult" }) ?? tables.first else {
                throw CLIError("the hub's answer has no result table: \(Output.json(answer))")
            }
            let columns = (table["columns"] as? [[String: Any]] ?? []).map { (name: Output.string($0["name"]), type: $0["type"] as? String) }
            let rows = table["rows"] as? [[Any]] ?? []
            if outputOptions.format == .json { print(Self.rowObjects(columns.map(\.name), rows)); return }
            if rows.isEmpty { print("no rows"); return }
            let headers = columns.map(\.name)
            var cells = rows.map { row in columns.indices.map { TextLayout.oneLine(Output.cell($0 < row.count ? row[$0] : nil)) } }
            let numeric = Set(columns.indices.filter { ["long", "real", "int", "decimal"].contains(columns[$0].type) })
            var fits = true
            if let width = Terminal.width {
                // Text and JSON give way; times, numbers and flags are kept whole.
                let text = Set(columns.indices.filter { [nil, "string", "dynamic"].contains(columns[$0].type) })
                (cells, fits) = TextLayout.fit(headers, cells, width: width, shrinkable: text)
            }
            let level = headers.firstIndex(of: "Level")
            Output.printTable(headers, cells, rightAligned: numeric) { column, cell in
                column == level ? Terminal.levelColour(cell) : nil
            }
            if !fits {
                FileHandle.standardError.write(Data("(\(headers.count) columns are wider than the terminal: choose some with `| project …`, or see every character with --json)\n".utf8))
            }
        }

        /// The rows as `{column: value}` objects, keys in the result's column order (a JSON
        /// object from JSONSerialization would sort them).
        static func rowObjects(_ columns: [String], _ rows: [[Any]]) -> String {
            guard !rows.isEmpty else { return "[]" }
            let objects = rows.map { row -> String in
                guard !columns.isEmpty else { return "  {}" }
                let fields = columns.enumerated().map { i, name in
                    "    \(Output.json(name)): \(Output.json(i < row.count ? row[i] : NSNull()))"
                }
                return "  {\n" + fields.joined(separator: ",\n") + "\n  }"
            }
            return "[\n" + objects.joined(separator: ",\n") + "\n]"
        }
    }
}
