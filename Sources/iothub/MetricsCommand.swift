import ArgumentParser
import Foundation

struct MetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Show the hub's metrics (Azure IoT Hub's names): current values and their history.",
        discussion: """
            The same values are in `iothub logs query 'AzureMetrics'` and, for Prometheus, on \
            `iothub serve --metrics-port` (default 9464).
            """,
        subcommands: [List.self, Show.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every metric with its current value.",
            discussion: """
                Example:

                  iothub metrics list
                """)
        @Flag(help: "Print the hub's answer as JSON.") var json = false
        @OptionGroup var hub: HubLogin

        func run() async throws {
            let metrics = try await hub.withClient { try await $0.json(.GET, HubClient.outpostPath("metrics")) }
            if json { Output.printJSON(metrics); return }
            let headers = ["NAME", "VALUE", "UNIT", "DESCRIPTION"]
            var rows = (metrics as? [[String: Any]] ?? []).map { m in
                [Output.string(m["name"]), Output.number(m["value"]), Output.string(m["unit"]), Output.string(m["description"])]
            }
            if let width = Terminal.width { rows = TextLayout.fit(headers, rows, width: width, shrinkable: [3], cap: 80).rows }
            Output.printTable(headers, rows, rightAligned: [1])
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one metric over time: minimum, maximum, average, total and count per interval.",
            discussion: """
                One row per interval, oldest first; on a terminal a line of blocks below the table \
                draws the averages. Durations are a whole number and s, m, h or d. Examples:

                  iothub metrics show connectedDeviceCount
                  iothub metrics show d2c.telemetry.ingress.success --since 6h --interval 15m
                  iothub metrics show c2d.methods.failure --since 2d --interval 1h --json
                """)
        @Argument(help: ArgumentHelp("The metric, e.g. connectedDeviceCount (see `iothub metrics list`).", valueName: "name"))
        var name: String
        @Option(help: ArgumentHelp("How far back to start.", valueName: "duration")) var since = "1h"
        @Option(help: ArgumentHelp("The length of each row.", valueName: "duration")) var interval = "1m"
        @Flag(help: "Print the hub's answer as JSON.") var json = false
        @OptionGroup var hub: HubLogin

        func validate() throws {
            guard !name.isEmpty else { throw ValidationError("The metric name is empty: see `iothub metrics list`.") }
            _ = try durations()
        }

        func durations() throws -> (since: DurationArgument, interval: DurationArgument) {
            let since = try DurationArgument.parse(since, option: "--since")
            let interval = try DurationArgument.parse(interval, option: "--interval")
            guard interval.seconds <= since.seconds else {
                throw ValidationError("--interval (\(interval.text)) is longer than --since (\(since.text)): there would be less than one row.")
            }
            return (since, interval)
        }

        func run() async throws {
            let (since, interval) = try durations()
            let path = HubClient.outpostPath("metrics", name, query: [("since", since.text), ("interval", interval.text)])
            let answer = try await hub.withClient { try await $0.json(.GET, path) }
            if json { Output.printJSON(answer); return }
            // ISO 8601 times in one format sort as text; the chart needs them in order.
            let points = ((answer as? [String: Any])?["points"] as? [[String: Any]] ?? [])
                .sorted { Output.string($0["time"]) < Output.string($1["time"]) }
            if points.isEmpty { print("no data for \(name) in the last \(since.text)"); return }
            Output.printTable(["TIME", "MIN", "MAX", "AVG", "TOTAL", "COUNT"], points.map { p in
                [Output.string(p["time"]), Output.number(p["minimum"]), Output.number(p["maximum"]),
                 Output.number(p["average"]), Output.number(p["total"]), Output.number(p["count"])]
            }, rightAligned: [1, 2, 3, 4, 5])
            if let width = Terminal.width, let chart = Self.chart(points, width: width) {
                print()
                print(chart)
            }
        }

        /// "avg ▁▂▅█▃  min 0 at 07:01 · max 12 at 07:14": the averages drawn, their extremes
        /// labelled, the whole line no wider than the terminal.
        static func chart(_ points: [[String: Any]], width: Int) -> String? {
            let values = points.map { ($0["average"] as? NSNumber)?.doubleValue }
            let known = values.indices.filter { values[$0] != nil }
            guard let low = known.min(by: { values[$0]! < values[$1]! }),
                  let high = known.max(by: { values[$0]! < values[$1]! }) else { return nil }
            func label(_ i: Int) -> String { "\(Output.number(values[i]!)) at \(clock(points[i]["time"]))" }
            let legend = "  min \(label(low)) · max \(label(high))"
            let line = Sparkline.render(values, width: max(width - 4 - legend.count, 10))
            return "avg " + line + legend
        }

        /// "07:14" of "2026-11-25T07:14:00Z" (the day is in the table above).
        private static func clock(_ time: Any?) -> String {
            let text = Output.string(time)
            guard let t = text.firstIndex(of: "T") else { return text }
            return String(text[text.index(after: t)...].prefix(5))
        }
    }
}
