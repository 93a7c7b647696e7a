import ArgumentParser
import Foundation

struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Create, list, show and delete metric alerts, and read when they fired.",
        discussion: """
            The hub evaluates each alert every `iothub serve --alert-interval` (default 60s): it \
            fires once when its condition starts to hold and resolves once when it stops, running \
            its actions each time. A new alert is Unknown until its first evaluation.
            """,
        subcommands: [Create.self, List.self, Show.self, Delete.self, History.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an alert on a metric, or replace the one of that name.",
            discussion: """
                The condition is "AGGREGATION of METRIC over the last WINDOW, OPERATOR THRESHOLD". \
                Each --action runs when the alert fires and when it resolves: webhook:URL POSTs \
                Azure Monitor's common alert schema, exec:COMMAND runs the command with /bin/sh \
                (OUTPOST_ALERT_NAME, OUTPOST_ALERT_CONDITION, OUTPOST_ALERT_METRIC and \
                OUTPOST_ALERT_VALUE set, the same JSON on stdin), log writes a line to the hub's log. \
                Examples:

                  iothub alerts create no-devices --metric connectedDeviceCount \\
                    --operator LessThan --threshold 1 --window 5m --aggregation Minimum \\
                    --action webhook:https://example.com/hook --action log
                  iothub alerts create refused --metric d2c.telemetry.ingress.failure \\
                    --operator GreaterThan --threshold 10 --window 15m --aggregation Total \\
                    --action 'exec:logger -t outpost "$OUTPOST_ALERT_NAME $OUTPOST_ALERT_VALUE"'
                """)
        @Argument(help: "The alert's name.") var name: String
        @Option(help: ArgumentHelp("The metric, e.g. connectedDeviceCount (see `iothub metrics list`).", valueName: "metric"))
        var metric: String
        @Option(name: .customLong("operator"), help: "How the aggregated value is compared with the threshold.")
        var comparison: AlertOperator
        @Option(parsing: .unconditional, help: ArgumentHelp("The number the aggregated value is compared with.", valueName: "number"))
        var threshold: String
        @Option(help: ArgumentHelp("How far back each evaluation looks: 90s, 5m, 1h, 2d.", valueName: "duration"))
        var window: String
        @Option(help: "How the window's values become one number.") var aggregation: AlertAggregation
        @Option(help: ArgumentHelp("webhook:URL, exec:COMMAND or log; repeat for more.", valueName: "action"))
        var action: [String] = []
        @Flag(help: "Print the hub's answer as JSON.") var json = false
        @OptionGroup var hub: HubLogin

        func validate() throws { _ = try ruleBody() }

        func ruleBody() throws -> [String: Any] {
            guard !name.isEmpty else { throw ValidationError("The alert's name is empty.") }
            guard !metric.isEmpty else { throw ValidationError("--metric is empty: see `iothub metrics list`.") }
            guard let number = Double(threshold.trimmingCharacters(in: .whitespaces)), number.isFinite else {
                throw ValidationError("--threshold must be a number such as 10 or 0.5, not \"\(threshold)\".")
            }
            let window = try DurationArgument.parse(window, option: "--window")
            guard !action.isEmpty else {
                throw ValidationError("Give at least one --action: webhook:URL, exec:COMMAND or log.")
            }
            return ["metric": metric, "operator": comparison.rawValue, "threshold": number, "window": window.text,
                    "aggregation": aggregation.rawValue, "actions": try action.map { try ActionArgument.action($0) },
                    "enabled": true]
        }

        func run() async throws {
            let body = try ruleBody()
            let alert = try await hub.withClient { try await $0.json(.PUT, AlertsCommand.path(name), body: body) }
            if json { Output.printJSON(alert); return }
            var shown = body
            shown["name"] = name
            shown.merge(alert as? [String: Any] ?? [:]) { _, hub in hub }
            print(AlertView.summary(shown))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the alerts with their conditions and states.",
            discussion: """
                Example:

                  iothub alerts list
                """)
        @Flag(help: "Print the hub's answer as JSON.") var json = false
        @OptionGroup var hub: HubLogin

        func run() async throws {
            let alerts = try await hub.withClient { try await $0.json(.GET, HubClient.outpostPath("alerts")) }
            if json { Output.printJSON(alerts); return }
            let list = alerts as? [[String: Any]] ?? []
            if list.isEmpty { print("no alerts"); return }
            let headers = ["NAME", "METRIC", "CONDITION", "WINDOW", "STATE", "ACTIONS"]
            var rows = list.map(AlertView.listRow)
            if let width = Terminal.width { rows = TextLayout.fit(headers, rows, width: width, shrinkable: [5], cap: 80).rows }
            Output.printTable(headers, rows) { column, cell in column == 4 ? AlertView.stateColour(cell) : nil }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show an alert.",
            discussion: """
                Example:

                  iothub alerts show no-devices
                """)
        @Argument(help: "The alert's name.") var name: String
        @Flag(help: "Print the hub's answer as JSON.") var json = false
        @OptionGroup var hub: HubLogin

        func run() async throws {
            let alert = try await hub.withClient { try await $0.json(.GET, AlertsCommand.path(name)) }
            if json { Output.printJSON(alert); return }
            Output.printFields(AlertView.fields(alert as? [String: Any] ?? [:]))
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete an alert (and its history).",
            discussion: """
                Example:

                  iothub alerts delete no-devices
                """)
        @Argument(help: "The alert's name.") var name: String
        @Flag(help: "Print the hub's answer as JSON.") var json = false
        @OptionGroup var hub: HubLogin

        func run() async throws {
            let answer = try await hub.withClient { try await $0.json(.DELETE, AlertsCommand.path(name)) }
            if json { Output.printJSON(answer); return }
            print("deleted alert \(name)")
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List when an alert fired and resolved, and how its actions went.",
            discussion: """
                One row per change of state: the aggregated value that caused it and, \
                for each action, ok or failed (with the attempts made and the last error). Example:

                  iothub alerts history no-devices
                """)
        @Argument(help: "The alert's name.") var name: String
        @Flag(help: "Print the hub's answer as JSON.") var json = false
        @OptionGroup var hub: HubLogin

        func run() async throws {
            let history = try await hub.withClient { try await $0.json(.GET, HubClient.outpostPath("alerts", name, "history")) }
            if json { Output.printJSON(history); return }
            let changes = history as? [[String: Any]] ?? []
            if changes.isEmpty { print("alert \(name) has not fired yet"); return }
            let headers = ["TIME", "STATE", "VALUE", "ACTIONS"]
            var rows = changes.map(AlertView.historyRow)
            if let width = Terminal.width { rows = TextLayout.fit(headers, rows, width: width, shrinkable: [3], cap: 80).rows }
            Output.printTable(headers, rows, rightAligned: [2]) { column, cell in column == 1 ? AlertView.stateColour(cell) : nil }
        }
    }

    static func path(_ name: String) -> String { HubClient.outpostPath("alerts", name) }
}
