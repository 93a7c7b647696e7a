import ArgumentParser
import Foundation
import IoTProtocol

struct MonitorEvents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor-events",
        abstract: "Read device-to-cloud telemetry from the hub's events endpoint.",
        discussion: """
            Prints each message as it arrives. A consumer group keeps its position on the hub: the
            next run with the same group resumes after the last message this one printed. A group
            that has never been read starts at the oldest message still retained.
            """)

    @Option(help: "Only messages of this device.") var device: String?
    @Option(help: "Consumer group whose position is read and kept.") var consumerGroup = "$Default"
    @Option(help: "Start at this sequence number instead of the group's position.") var fromSequence: Int64?
    @Option(help: "Stop after this many messages.") var count: Int?
    @Option(help: "Stop after this many seconds without a new message.") var timeout: Double?
    @OptionGroup var outputOptions: OutputOptions
    var output: OutputFormat { outputOptions.format }
    @OptionGroup var hub: HubLogin

    func validate() throws {
        if let count, count < 1 { throw ValidationError("--count must be at least 1.") }
        if let timeout, timeout <= 0 { throw ValidationError("--timeout must be a positive number of seconds.") }
        if let fromSequence, fromSequence < 1 { throw ValidationError("--from-sequence must be at least 1.") }
    }

    func run() async throws {
        var path = "/$outpost/events?consumerGroup=\(encode(consumerGroup))"
        if let device { path += "&device=\(encode(device))" }
        if let fromSequence { path += "&fromSequence=\(fromSequence)" }
        let group = consumerGroup
        let limit = count, idle = timeout
        try await hub.withClient { client in
            let state = ReaderState()
            let reader = Task {
                try await client.streamLines(path) { line in
                    if line.isEmpty { return true }  // heartbeat
                    guard let event = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return true }
                    print(output == .json ? line : Self.describe(event))
                    fflush(stdout)
                    let n = await state.received((event["sequenceNumber"] as? NSNumber)?.int64Value ?? 0)
                    if n % 100 == 0 { try await checkpoint(client, group, await state.position) }
                    return limit.map { n < $0 } ?? true
                }
            }
            // --timeout: stop reading once nothing has arrived for that long.
            let watchdog: Task<Void, Never>? = idle.map { seconds in
                Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(100))
                        if await state.idleFor() >= seconds { await state.timedOut(); reader.cancel(); return }
                    }
                }
            }
            defer { watchdog?.cancel() }
            do { try await reader.value } catch {
                if !(await state.didTimeOut) { throw error }
            }
            if let position = await state.lastPosition { try await checkpoint(client, group, position) }
        }
    }

    private func checkpoint(_ client: HubClient, _ group: String, _ position: Int64) async throws {
        guard position > 0 else { return }
        _ = try await client.request(.PUT, "/$outpost/consumergroups/\(encode(group))", body: try JSONSerialization.data(withJSONObject: ["position": position]))
    }

    private func encode(_ s: String) -> String { PercentEncoding.encode(s) }

    static func describe(_ e: [String: Any]) -> String {
        var who = Output.string(e["deviceId"])
        if let m = e["moduleId"] as? String { who += "/\(m)" }
        let props = (e["properties"] as? [String: Any] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\(Output.string($0.value))" }
        var line = "\(Output.string(e["enqueuedTime"]))  #\(Output.string(e["sequenceNumber"]))  \(who)  \(Output.string(e["body"]))"
        if !props.isEmpty { line += "  {" + props.joined(separator: ", ") + "}" }
        return line
    }
}

/// What the reader has seen, shared with the idle watchdog.
actor ReaderState {
    private(set) var count = 0
    private(set) var lastPosition: Int64?
    private var lastActivity = Date()
    private(set) var didTimeOut = false

    func timedOut() { didTimeOut = true }

    var position: Int64 { lastPosition ?? 0 }

    func received(_ sequenceNumber: Int64) -> Int {
        count += 1
        lastPosition = sequenceNumber
        lastActivity = Date()
        return count
    }

    func idleFor() -> Double { Date().timeIntervalSince(lastActivity) }
}

struct TelemetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "telemetry",
        abstract: "Inspect stored telemetry.",
        subcommands: [Stats.self])

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "How much telemetry the hub keeps, for how long, and where each consumer group stands.")
        @OptionGroup var outputOptions: OutputOptions
        var output: OutputFormat { outputOptions.format }
        @OptionGroup var hub: HubLogin

        func run() async throws {
            let stats = try await hub.withClient { try await $0.json(.GET, "/$outpost/events/stats") } as? [String: Any] ?? [:]
            if output == .json { Output.printJSON(stats); return }
            let hours = (stats["retentionSeconds"] as? NSNumber).map { String(format: "%.1f h", $0.doubleValue / 3600) } ?? "-"
            Output.printFields([
                ("Messages", Output.string(stats["messageCount"])),
                ("Sequence numbers", "\(Output.string(stats["firstSequenceNumber"])) … \(Output.string(stats["lastSequenceNumber"]))"),
                ("Oldest", Output.string(stats["oldestEnqueuedTime"])),
                ("Newest", Output.string(stats["newestEnqueuedTime"])),
                ("Payload bytes", Output.string(stats["bodyBytes"])),
                ("Retention", hours),
            ])
            let groups = stats["consumerGroups"] as? [[String: Any]] ?? []
            if !groups.isEmpty {
                print()
                Output.printTable(["CONSUMER GROUP", "POSITION"], groups.map { [Output.string($0["name"]), Output.string($0["position"])] })
            }
        }
    }
}
