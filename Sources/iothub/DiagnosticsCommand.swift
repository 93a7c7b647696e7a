import ArgumentParser
import Foundation

struct DiagnosticsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagnostics",
        abstract: "Show and change which resource logs the hub keeps, for how long, and where it also sends them.",
        discussion: """
            Each category of Azure IoT Hub's resource logs can be kept (and queried with \
            `iothub logs query`), kept for 1…365 days, and copied to a sink. Connections is on \
            by default; the others are off.
            """,
        subcommands: [Show.self, Change.self])

    /// The categories the hub logs, in the order it lists them.
    static let categories = ["Connections", "DeviceTelemetry", "TwinQueries", "DirectMethods", "C2DCommands", "FileUploadOperations"]

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the log categories: enabled or not, retention and sink.",
            discussion: """
                Example:

                  iothub diagnostics show
                  iothub diagnostics show --json
                """)
        @Flag(help: "Print the hub's answer as JSON.") var json = false
        @OptionGroup var hub: HubLogin

        func run() async throws {
            let settings = try await hub.withClient { try await $0.json(.GET, HubClient.outpostPath("diagnostics", "settings")) }
            if json { Output.printJSON(settings); return }
            Output.printTable(["CATEGORY", "ENABLED", "RETENTION", "SINK"],
                              (settings as? [[String: Any]] ?? []).map(DiagnosticsCommand.row))
        }
    }

    struct Change: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Turn a log category on or off, set its retention, or send it to a sink.",
            discussion: """
                Options not given keep their value. A file sink gets one JSON record per line; a \
                webhook sink gets each record POSTed as JSON. Examples:

                  iothub diagnostics set --category DirectMethods --enabled true
                  iothub diagnostics set --category Connections --retention-days 30
                  iothub diagnostics set --category Connections \\
                    --sink file:/var/log/outpost/connections.log
                  iothub diagnostics set --category Connections \\
                    --sink webhook:https://logs.example.com/ingest
                  iothub diagnostics set --category Connections --sink none
                """)
        @Option(help: ArgumentHelp("Connections, DeviceTelemetry, TwinQueries, DirectMethods, C2DCommands or FileUploadOperations.", valueName: "category"))
        var category: String
        @Option(help: ArgumentHelp("Keep records of this category.", valueName: "true|false")) var enabled: String?
        @Option(parsing: .unconditional, help: ArgumentHelp("Days the records are kept (1…365).", valueName: "days"))
        var retentionDays: Int?
        @Option(help: ArgumentHelp("Also send each record to file:/absolute/path or webhook:https://…; none removes the sink.",
                                   valueName: "sink"))
        var sink: String?
        @Flag(help: "Print the hub's answer as JSON.") var json = false
        @OptionGroup var hub: HubLogin

        func validate() throws { _ = try settingBody() }

        /// The category as the hub spells it (the user may type `connections`).
        func canonicalCategory() throws -> String {
            guard let name = DiagnosticsCommand.categories.first(where: { $0.lowercased() == category.lowercased() }) else {
                throw ValidationError("Unknown category \"\(category)\": give one of \(DiagnosticsCommand.categories.joined(separator: ", ")).")
            }
            return name
        }

        func settingBody() throws -> [String: Any] {
            _ = try canonicalCategory()
            guard enabled != nil || retentionDays != nil || sink != nil else {
                throw ValidationError("Nothing to change: give --enabled, --retention-days, --sink or more than one.")
            }
            var body: [String: Any] = [:]
            if let enabled {
                switch enabled.lowercased() {
                case "true": body["enabled"] = true
                case "false": body["enabled"] = false
                default: throw ValidationError("--enabled must be true or false, not \"\(enabled)\".")
                }
            }
            if let retentionDays {
                guard (1...365).contains(retentionDays) else {
                    throw ValidationError("--retention-days must be 1…365, not \(retentionDays).")
                }
                body["retentionDays"] = retentionDays
            }
            if let sink { body["sink"] = try ActionArgument.sink(sink) }
            return body
        }

        func run() async throws {
            let name = try canonicalCategory()
            let path = HubClient.outpostPath("diagnostics", "settings", name)
            let body = try settingBody()
            let setting = try await hub.withClient { try await $0.json(.PUT, path, body: body) }
            if json { Output.printJSON(setting); return }
            let s = setting as? [String: Any] ?? [:]
            let state = (s["enabled"] as? Bool) == true ? "enabled" : "disabled"
            let sink = (s["sink"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? "none"
            print("diagnostics \(Output.string(s["category"] ?? name)): \(state), kept \(DiagnosticsCommand.retention(s["retentionDays"])), sink \(sink)")
        }
    }

    static func row(_ s: [String: Any]) -> [String] {
        [Output.string(s["category"]), DeviceView.yesNo(s["enabled"]), retention(s["retentionDays"]), Output.string(s["sink"])]
    }

    static func retention(_ days: Any?) -> String {
        guard let n = (days as? NSNumber)?.intValue else { return Output.string(days) }
        return n == 1 ? "1 day" : "\(n) days"
    }
}
