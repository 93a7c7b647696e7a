import IoTProtocol
import MQTT
import NIOCore

/// The one consumer of the fan-in: it sees every stored (Outpost) or routed (Mosquitto) message
/// and records its end-to-end latency from the send time in the payload.
protocol Reader: AnyObject {
    func start() async throws
    func stop() async
}

/// Mosquitto: an MQTT subscriber to every device's telemetry topic.
final class MQTTReader: Reader, @unchecked Sendable {
    static let filter = "devices/+/messages/events/#"
    let dialer: Dialer
    let stats: Stats
    let qos: QoS
    private var client: MQTTClient?

    init(dialer: Dialer, stats: Stats, qos: QoS) {
        self.dialer = dialer
        self.stats = stats
        self.qos = qos
    }

    func start() async throws {
        let stats = self.stats
        let client = try await dialer.connect(Connect(cleanSession: true, keepAliveSeconds: 60, clientID: "outpost-bench-reader")) { client in
            client.onPacket = { [weak client] packet in
                    guard let client else { return }
                guard case .publish(let p) = packet else { return }
                if let id = p.packetID { client.write(.puback(packetID: id)) }
                if let fields = Payload.parse(p.payload.readableBytesView) { stats.received(fields, at: Clock.now) }
            }
        }.get()
        self.client = client
        let subscribed = client.channel!.eventLoop.makePromise(of: Void.self)
        client.channel!.eventLoop.execute { [qos] in
            let previous = client.onPacket
            client.onPacket = { packet in
                if case .suback(let ack) = packet {
                    client.onPacket = previous
                    if ack.results.first.flatMap({ $0 }) == nil {
                        subscribed.fail(BenchError("the broker refused the reader's subscription to \(Self.filter)"))
                    } else {
                        subscribed.succeed(())
                    }
                } else {
                    previous?(packet)
                }
            }
            client.write(.subscribe(Subscribe(packetID: 1, requests: [.init(topicFilter: Self.filter, qos: qos)])))
            client.flushIfNeeded()
        }
        try await subscribed.futureResult.get()
    }

    func stop() async {
        if let client { await Dialer.closeAll([client]) }
    }
}

/// Outpost: the events endpoint (`GET /$outpost/events`, what `iothub monitor-events` reads),
/// from just after the last message stored before this run.
final class EventsReader: Reader, @unchecked Sendable {
    let service: ServiceClient
    let stats: Stats
    private var task: Task<Void, Never>?

    init(service: ServiceClient, stats: Stats) {
        self.service = service
        self.stats = stats
    }

    func start() async throws {
        let from = try await service.lastSequenceNumber() + 1
        let stats = self.stats, service = self.service
        task = Task {
            do {
                try await service.streamEvents(fromSequence: from) { line in
                    if let fields = Payload.parse(eventLine: line) { stats.received(fields, at: Clock.now) }
                }
            } catch is CancellationError {
            } catch {
                if !Task.isCancelled { stats.error("events reader: \(Dialer.summary(error))") }
            }
        }
    }

    func stop() async {
        task?.cancel()
        _ = await task?.value
    }
}
