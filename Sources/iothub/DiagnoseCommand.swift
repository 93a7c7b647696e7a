import ArgumentParser
import Foundation

struct DiagnoseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagnose",
        abstract: "Explain a device's connection problems from the hub's connection log.",
        discussion: """
            Reads the device's registry state and its Connections records: how often it connected \
            and disconnected, each error code with its count, root cause and resolution, what the \
            hub makes of the pattern (e.g. disconnects by keep-alive expiry), and the last 20 \
            events. Exits 0 whatever it finds (it is a report), 1 when the device does not exist. \
            Examples:

              iothub diagnose sensor-1
              iothub diagnose sensor-1 --since 2h
              iothub diagnose sensor-1 --since 7d --json
            """)
    @Argument(help: "The device id.") var deviceID: String
    @Option(help: ArgumentHelp("How far back to read: 90s, 5m, 1h, 2d.", valueName: "duration")) var since = "24h"
    @Flag(help: "Print the hub's answer as JSON.") var json = false
    @OptionGroup var hub: HubLogin

    /// The events shown, newest last, as the spec's report has it.
    static let historyLength = 20

    func validate() throws { _ = try DurationArgument.parse(since, option: "--since") }

    func run() async throws {
        let window = try DurationArgument.parse(since, option: "--since")
        let path = HubClient.outpostPath("devices", deviceID, "diagnosis", query: [("since", window.text)])
        let answer = try await hub.withClient { try await $0.json(.GET, path) }
        if json { Output.printJSON(answer); return }
        let report = answer as? [String: Any] ?? [:]
        let width = Terminal.textWidth
        summary(report)
        errors(report["errors"] as? [[String: Any]] ?? [], width: width)
        findings(report["findings"] as? [Any] ?? [], width: width)
        history(report["history"] as? [[String: Any]] ?? [])
    }

    private func summary(_ report: [String: Any]) {
        let registry = report["registry"] as? [String: Any] ?? [:]
        var connection = Output.string(registry["connectionState"])
        // The registry's zero time ("0001-01-01…") means the state has never changed.
        if let changed = registry["connectionStateUpdatedTime"] as? String, !changed.isEmpty, DeviceView.time(changed) != "never" {
            connection += " since \(changed)"
        }
        Output.printFields([
            ("Device", Output.string(report["deviceId"] ?? deviceID)),
            ("Since", Output.string(report["since"] ?? since)),
            ("Status", Output.string(registry["status"])),
            ("Connection", connection),
            ("Last activity", DeviceView.time(registry["lastActivityTime"])),
            ("Connects", Output.string(report["connects"])),
            ("Disconnects", Output.string(report["disconnects"])),
        ])
    }

    /// CODE NAME COUNT LAST, each row followed by its root cause and resolution, indented to the
    /// NAME column and wrapped.
    private func errors(_ errors: [[String: Any]], width: Int) {
        print()
        Output.printHeading("Errors")
        if errors.isEmpty { print("none"); return }
        let rows = errors.map { e in
            [Output.string(e["resultType"]), Output.string(e["name"]), Output.string(e["count"]), Output.string(e["last"])]
        }
        let lines = Output.tableLines(["CODE", "NAME", "COUNT", "LAST"], rows, rightAligned: [2])
        print(lines[0])
        let indent = String(repeating: " ", count: max(rows.map { $0[0].count }.max() ?? 0, "CODE".count) + 2)
        for (e, line) in zip(errors, lines.dropFirst()) {
            print(line)
            for (label, key) in [("Root cause", "rootCause"), ("Resolution", "resolution")] {
                guard let text = e[key] as? String, !text.isEmpty else { continue }
                let first = indent + label + "  "
                for wrapped in TextLayout.wrap(text, width: width, first: first, rest: String(repeating: " ", count: first.count)) {
                    print(wrapped)
                }
            }
        }
    }

    private func findings(_ findings: [Any], width: Int) {
        print()
        Output.printHeading("Findings")
        if findings.isEmpty { print("none"); return }
        for finding in findings {
            for line in TextLayout.wrap(Output.string(finding), width: width, first: "• ", rest: "  ") { print(line) }
        }
    }

    private func history(_ events: [[String: Any]]) {
        print()
        // Oldest first, whichever way the hub lists them, so that the last rows are the latest.
        let ordered = Output.string(events.first?["time"]) > Output.string(events.last?["time"]) ? events.reversed() : events
        let recent = ordered.suffix(Self.historyLength)
        Output.printHeading(events.count > recent.count ? "History (last \(recent.count) of \(events.count))" : "History")
        if recent.isEmpty { print("no connection events"); return }
        let headers = ["TIME", "OPERATION", "LEVEL", "CODE", "DESCRIPTION", "PROTOCOL", "DURATION"]
        var rows = recent.map { h in
            [Output.string(h["time"]), Output.string(h["operationName"]), Output.string(h["level"]),
             Self.nonEmpty(h["resultType"]), TextLayout.oneLine(Self.nonEmpty(h["resultDescription"])),
             Output.string(h["protocol"]),
             (h["durationMs"] as? NSNumber).map { DurationArgument.describe(milliseconds: $0.doubleValue) } ?? "-"]
        }
        if let width = Terminal.width { rows = TextLayout.fit(headers, rows, width: width, shrinkable: [4]).rows }
        Output.printTable(headers, rows, rightAligned: [6]) { column, cell in
            column == 2 ? Terminal.levelColour(cell) : nil
        }
    }

    /// A successful event has "" as its code and description: shown as "-" like a null.
    private static func nonEmpty(_ any: Any?) -> String {
        let text = Output.string(any)
        return text.isEmpty ? "-" : text
    }
}
