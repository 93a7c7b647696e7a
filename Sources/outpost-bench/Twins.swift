import ArgumentParser
import Foundation
import IoTProtocol
import MQTT
import NIOCore

/// Scenario 5b (Outpost only): devices patch their reported properties over MQTT.
struct Twins: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Twin reported-property updates per second: PATCH on $iothub/twin/PATCH/properties/reported, answered on $iothub/twin/res (Outpost only).")

    @OptionGroup var target: TargetOptions
    @Option(help: "Devices patching their twins.") var devices = 10
    @Option(help: "Patches each device may have unanswered.") var window = 4
    @Option(help: "Seconds of patching.") var duration: Double = 10
    @Option(help: "Device id prefix (default: a fresh random one).") var prefix: String?

    func validate() throws {
        if !(1...10_000).contains(devices) { throw ValidationError("--devices must be 1 to 10000.") }
        if !(1...1_000).contains(window) { throw ValidationError("--window must be 1 to 1000.") }
        if duration <= 0 { throw ValidationError("--duration must be a positive number of seconds.") }
    }

    func run() async throws {
        let target = try self.target.resolve()
        guard target.service != nil, target.auth == .sas else {
            throw ValidationError("twins needs Outpost: give --data-dir or --login (Mosquitto has no device twins).")
        }
        try await BenchSession.with(target, scenario: "twins", prefix: prefix) { session in
            let ids = try await session.provision(devices)
            let stats = Stats()
            let clients = await session.dialer.connectAll(ids, keepAlive: 60, concurrency: 100, stats: stats)
            try await subscribeAll(clients.values, filter: "$iothub/twin/res/#")
            let patchers = clients.values.map { TwinPatcher(client: $0, window: window, stats: stats) }
            let progress = Progress(json: self.target.json)
            progress.start { elapsed in
                let s = stats.snapshot
                return String(format: "twins %@  %.0f s  updates %d  %.0f/s  errors %d", target.label, elapsed, s.acked, Double(s.acked) / max(elapsed, 0.001), s.errorCount)
            }
            for p in patchers { p.start() }
            try await Task.sleep(for: .milliseconds(Int(duration * 1000)))
            let done = stats.snapshot.acked
            for p in patchers { p.stop() }
            try await Task.sleep(for: .milliseconds(500))
            progress.stop()
            let memory = session.memory.sample()
            await Dialer.closeAll(clients.values)
            let s = stats.snapshot
            var report = Report(scenario: "twins", target: target.label)
            report.add("devices", devices)
            report.add("window", window)
            report.add("updates", done)
            report.add("throughput", Double(done) / duration, digits: 0, "updates/s")
            report.addLatency("round_trip", s.ackLatency)
            report.addMemory("server", memory)
            report.addErrors(s.errors)
            print(report.render(json: self.target.json))
        }
    }
}

/// One device sending reported-property patches, `window` at a time, on its event loop.
final class TwinPatcher: @unchecked Sendable {
    let client: MQTTClient
    let window: Int
    let stats: Stats
    private var running = false
    private var nextRequest = 0
    private var inFlight: [String: UInt64] = [:]
    private var nextPacketID: UInt16 = 0

    init(client: MQTTClient, window: Int, stats: Stats) {
        self.client = client
        self.window = window
        self.stats = stats
        client.onPacket = { [self] in self.received($0) }
    }

    func start() { client.channel?.eventLoop.execute { [self] in running = true; fill(); client.flushIfNeeded() } }
    func stop() { client.channel?.eventLoop.execute { [self] in running = false } }

    private func fill() {
        while running, inFlight.count < window {
            nextRequest += 1
            let rid = String(nextRequest)
            nextPacketID = nextPacketID == .max ? 1 : nextPacketID + 1
            inFlight[rid] = Clock.now
            let patch = ByteBuffer(string: #"{"bench":{"n":\#(nextRequest)}}"#)
            client.write(.publish(Publish(topic: IoTTopic.reportedPatchRequest(requestID: rid), payload: patch,
                                          qos: .atLeastOnce, packetID: nextPacketID)))
        }
    }

    private func received(_ packet: MQTTPacket) {
        guard case .publish(let p) = packet else { return }
        if let id = p.packetID { client.write(.puback(packetID: id)) }
        guard case .twinResponse(let status, let rid, _)? = IoTTopic.parseOutbound(p.topic), let sent = inFlight.removeValue(forKey: rid) else { return }
        if status == 204 { stats.acked(latencyNanos: Clock.now - sent) } else { stats.error("twin PATCH answered \(status)") }
        fill()
    }
}
