import ArgumentParser
import Foundation
import IoTProtocol
import MQTT
import NIOCore

/// Scenario 5a (Outpost only): direct methods from the service API to connected devices.
struct Methods: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Direct-method round trips per second: POST /twins/{id}/methods over HTTPS, answered by MQTT devices (Outpost only).")

    @OptionGroup var target: TargetOptions
    @Option(help: "Devices answering methods.") var devices = 10
    @Option(help: "Method calls in flight at once.") var concurrency = 16
    @Option(help: "Seconds of calling.") var duration: Double = 10
    @Option(help: "Device id prefix (default: a fresh random one).") var prefix: String?

    func validate() throws {
        if !(1...10_000).contains(devices) { throw ValidationError("--devices must be 1 to 10000.") }
        if !(1...1_000).contains(concurrency) { throw ValidationError("--concurrency must be 1 to 1000.") }
        if duration <= 0 { throw ValidationError("--duration must be a positive number of seconds.") }
    }

    func run() async throws {
        let target = try self.target.resolve()
        guard target.service != nil, target.auth == .sas else {
            throw ValidationError("methods needs Outpost: give --data-dir or --login (Mosquitto has no direct methods).")
        }
        try await BenchSession.with(target, scenario: "methods", prefix: prefix) { session in
            let ids = try await session.provision(devices)
            let stats = Stats()
            let clients = await session.dialer.connectAll(ids, keepAlive: 60, concurrency: 100, stats: stats) { _, client in
                client.onPacket = { [weak client] packet in
                    guard let client else { return }
                    guard case .publish(let p) = packet, case .methodRequest(_, let rid)? = IoTTopic.parseOutbound(p.topic) else { return }
                    if let id = p.packetID { client.write(.puback(packetID: id)) }
                    client.write(.publish(Publish(topic: IoTTopic.methodResponse(status: 200, requestID: rid), payload: ByteBuffer(string: #"{"ok":true}"#))))
                }
            }
            try await subscribeAll(clients.values, filter: "$iothub/methods/POST/#")
            let service = session.service!
            let order = clients.keys.sorted()
            let started = Date()
            let progress = Progress(json: self.target.json)
            progress.start { elapsed in
                let s = stats.snapshot
                return String(format: "methods %@  %.0f s  calls %d  %.0f/s  errors %d", target.label, elapsed, s.acked, Double(s.acked) / max(elapsed, 0.001), s.errorCount)
            }
            await withTaskGroup(of: Void.self) { group in
                for worker in 0..<concurrency {
                    group.addTask {
                        var n = worker
                        while Date().timeIntervalSince(started) < duration {
                            let id = ids[order[n % order.count]]
                            n += concurrency
                            let t0 = Clock.now
                            do {
                                let status = try await service.invokeMethod(deviceID: id, name: "bench")
                                if status == 200 { stats.acked(latencyNanos: Clock.now - t0) } else { stats.error("device answered \(status)") }
                            } catch {
                                stats.error("method: \(Dialer.summary(error))")
                            }
                        }
                    }
                }
            }
            let elapsed = Date().timeIntervalSince(started)
            progress.stop()
            let memory = session.memory.sample()
            await Dialer.closeAll(clients.values)
            let s = stats.snapshot
            var report = Report(scenario: "methods", target: target.label)
            report.add("devices", devices)
            report.add("concurrency", concurrency)
            report.add("calls", s.acked)
            report.add("throughput", Double(s.acked) / elapsed, digits: 0, "calls/s")
            report.addLatency("round_trip", s.ackLatency)
            report.addMemory("server", memory)
            report.addErrors(s.errors)
            print(report.render(json: self.target.json))
        }
    }
}

/// Subscribes each client to `filter` and waits for every SUBACK.
func subscribeAll(_ clients: some Collection<MQTTClient>, filter: String) async throws {
    for client in clients {
        guard let loop = client.channel?.eventLoop else { continue }
        let done = loop.makePromise(of: Void.self)
        loop.execute {
            let previous = client.onPacket
            client.onPacket = { packet in
                if case .suback(let ack) = packet {
                    client.onPacket = previous
                    if ack.results.first.flatMap({ $0 }) == nil { done.fail(BenchError("subscription to \(filter) refused")) } else { done.succeed(()) }
                } else {
                    previous?(packet)
                }
            }
            client.write(.subscribe(Subscribe(packetID: 1, requests: [.init(topicFilter: filter, qos: .atLeastOnce)])))
            client.flushIfNeeded()
        }
        try await done.futureResult.get()
    }
}
