import ArgumentParser
import Foundation
import IoTProtocol
import MQTT

/// Scenario 1 and 2 of issue 8: N devices publish telemetry, one reader consumes it.
struct FanIn: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fan-in",
        abstract: "N devices publish telemetry (QoS 0 or 1) while one reader consumes it; throughput and latency.",
        discussion: """
            Outpost stores every message in SQLite before its PUBACK; Mosquitto (persistence off) \
            only forwards it. The reader is a subscriber to devices/+/messages/events/# on \
            Mosquitto and the events endpoint (what monitor-events reads) on Outpost.
            """)

    @OptionGroup var target: TargetOptions
    @Option(help: "Devices publishing at once.") var devices = 100
    @Option(help: "0 or 1.") var qos = 1
    @Option(help: "Payload size in bytes (at least 40: the timestamp, device and sequence fields).") var payload = 256
    @Option(help: "Messages per second in total; 0 is flat out.") var rate: Double = 0
    @Option(help: "Seconds of publishing.") var duration: Double = 10
    @Option(help: "QoS 1 messages each device may have unacknowledged.") var window = 16
    @Option(help: "Device id prefix (default: a fresh random one, so that runs do not collide).") var prefix: String?
    @Flag(help: "No reader: measure publishing only.") var noReader = false
    @Option(help: "Write each device's count of acknowledged messages as JSON here (the soak's exactly-once check reads it).") var ackedOut: String?

    func validate() throws {
        if !(1...100_000).contains(devices) { throw ValidationError("--devices must be 1 to 100000.") }
        if qos != 0 && qos != 1 { throw ValidationError("--qos must be 0 or 1 (IoT Hub does not accept QoS 2).") }
        if !(40...262_144).contains(payload) { throw ValidationError("--payload must be 40 to 262144 bytes.") }
        if rate < 0 { throw ValidationError("--rate must be 0 (flat out) or a positive number of messages per second.") }
        if duration <= 0 { throw ValidationError("--duration must be a positive number of seconds.") }
        if !(1...65_000).contains(window) { throw ValidationError("--window must be 1 to 65000.") }
    }

    func run() async throws {
        let target = try self.target.resolve()
        try await BenchSession.with(target, scenario: "fan-in", prefix: prefix) { try await run($0, target) }
    }

    private func run(_ session: BenchSession, _ target: BenchTarget) async throws {
        let ids = try await session.provision(devices)
        let stats = Stats()
        let memoryBefore = session.memory.sample()

        var reader: Reader?
        if !noReader {
            reader = session.service.map { EventsReader(service: $0, stats: stats) as Reader }
                ?? MQTTReader(dialer: session.dialer, stats: stats, qos: .atMostOnce)
            try await reader?.start()
        }

        let connectStart = Date()
        let clients = await session.dialer.connectAll(ids, keepAlive: 60, concurrency: 100, stats: stats)
        let connectSeconds = Date().timeIntervalSince(connectStart)
        let settings = Publisher.Settings(qos: qos == 1 ? .atLeastOnce : .atMostOnce, payloadBytes: payload, window: window,
                                          rate: rate > 0 ? rate / Double(devices) : nil)
        let publishers = clients.sorted { $0.key < $1.key }.map { i, client in
            Publisher(client: client, device: i, topic: "devices/\(ids[i])/messages/events/", settings: settings, stats: stats)
        }

        session.memory.start()
        let progress = Progress(json: self.target.json)
        progress.start { elapsed in
            let s = stats.snapshot
            return String(format: "fan-in %@  %.0f s  published %d  acked %d  read %d  %.0f msg/s  errors %d",
                          target.label, elapsed, s.published, s.acked, s.received, Double(qos == 1 ? s.acked : s.published) / max(elapsed, 0.001), s.errorCount)
        }
        let started = Date()
        for p in publishers { p.start() }
        try await Task.sleep(for: .milliseconds(Int(duration * 1000)))
        for p in publishers { p.stop() }
        let sentAtStop = stats.snapshot
        // Let what is in flight be acknowledged and read, for at most 10 s.
        let drainStart = Date()
        while Date().timeIntervalSince(drainStart) < 10 {
            let s = stats.snapshot
            let allAcked = qos == 0 || s.acked >= s.published
            let allRead = reader == nil || s.received >= (qos == 1 ? s.acked : s.published)
            if allAcked && allRead { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let elapsed = Date().timeIntervalSince(started)
        progress.stop()
        let peak = session.memory.stop()
        await reader?.stop()
        await Dialer.closeAll(clients.values)

        let s = stats.snapshot
        var report = Report(scenario: qos == 1 ? "fan-in-qos1" : "fan-in-qos0", target: target.label)
        report.add("transport", target.caPEM == nil ? "tcp" : "tls")
        report.add("devices", devices)
        report.add("connected", clients.count)
        report.add("connect_seconds", connectSeconds, digits: 2, "s")
        report.add("payload_bytes", payload)
        report.add("window", window)
        report.add("target_rate", rate, digits: 0, "msg/s")
        report.add("duration_s", duration, digits: 1, "s")
        report.add("published", s.published)
        report.add("acked", s.acked)
        // QoS 1: acknowledged messages over the publishing time; QoS 0 has no acknowledgement.
        let delivered = qos == 1 ? sentAtStop.acked : sentAtStop.published
        report.add("throughput", Double(delivered) / duration, digits: 0, "msg/s")
        if reader != nil {
            report.add("read", s.received)
            report.add("read_duplicates", s.duplicates)
            report.add("not_read", max(0, (qos == 1 ? s.acked : s.published) - s.received))
        }
        report.add("drain_s", elapsed - duration, digits: 2, "s")
        report.addLatency("ack", s.ackLatency)
        report.addLatency("e2e", s.endToEnd)
        report.addMemory("server_before", memoryBefore)
        report.addMemory("server_peak", peak)
        report.addErrors(s.errors)
        print(report.render(json: self.target.json))

        if let ackedOut {
            let counts = Dictionary(uniqueKeysWithValues: publishers.map { (ids[$0.device], $0.ackedCount) })
            let data = try JSONSerialization.data(withJSONObject: counts, options: [.sortedKeys])
            try data.write(to: URL(fileURLWithPath: ackedOut))
        }
    }
}
