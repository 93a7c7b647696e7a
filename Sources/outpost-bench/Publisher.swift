import MQTT
import NIOCore

/// One device publishing telemetry, on its connection's event loop: flat out with at most
/// `window` QoS 1 messages unacknowledged (QoS 0: as fast as the socket takes them), or at a
/// fixed rate. Each payload carries its send time, device and sequence number.
final class Publisher: @unchecked Sendable {
    struct Settings {
        var qos: QoS
        var payloadBytes: Int
        var window: Int
        /// Messages per second of this device; nil is flat out.
        var rate: Double?
    }

    let client: MQTTClient
    let device: Int
    let topic: String
    let settings: Settings
    let stats: Stats
    private var running = false
    private var nextSequence = 0
    private var nextPacketID: UInt16 = 0
    private var inFlight: [UInt16: UInt64] = [:]
    private var started: UInt64 = 0
    private var ticker: RepeatedTask?
    private let allocator = ByteBufferAllocator()
    /// Sequence numbers published and acknowledged, for the exactly-once check of a soak.
    private(set) var ackedCount = 0

    init(client: MQTTClient, device: Int, topic: String, settings: Settings, stats: Stats) {
        self.client = client
        self.device = device
        self.topic = topic
        self.settings = settings
        self.stats = stats
        client.onPacket = { [self] in self.received($0) }
        client.onWritable = { [self] in if self.settings.qos == .atMostOnce, self.settings.rate == nil { self.fill() } }
    }

    var loop: EventLoop? { client.channel?.eventLoop }
    var unacknowledged: Int { inFlight.count }

    func start() {
        guard let loop else { return }
        loop.execute { [self] in
            running = true
            started = Clock.now
            if let rate = settings.rate {
                // Ticks every 10 ms send what is due since the start, so timer jitter does not
                // change the rate.
                ticker = loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(10)) { [weak self] _ in
                    guard let self, self.running else { return }
                    let due = Int(Double(Clock.now - self.started) / 1e9 * rate) + 1
                    while self.nextSequence < due && self.inFlight.count < self.settings.window { self.publishOne() }
                    self.client.flushIfNeeded()
                }
            } else {
                fill()
            }
        }
    }

    /// Stops publishing; what is in flight still gets its PUBACK.
    func stop() {
        loop?.execute { [self] in
            running = false
            ticker?.cancel()
        }
    }

    /// `flush: false` inside a read burst: the client flushes once at its end.
    private func fill(flush: Bool = true) {
        guard running else { return }
        var sent = 0
        while inFlight.count < settings.window, client.isWritable, sent < 64 {
            publishOne()
            sent += 1
        }
        if flush { client.flushIfNeeded() }
        // QoS 0 has no PUBACK to clock the next message: come back while the socket takes more.
        if settings.qos == .atMostOnce, client.isWritable, sent > 0 {
            loop?.execute { [weak self] in self?.fill() }
        }
    }

    private func publishOne() {
        let now = Clock.now
        var payload = allocator.buffer(capacity: settings.payloadBytes)
        Payload.write(.init(sentNanos: now, device: device, sequence: nextSequence), size: settings.payloadBytes, into: &payload)
        nextSequence += 1
        var packetID: UInt16?
        if settings.qos == .atLeastOnce {
            repeat { nextPacketID = nextPacketID == .max ? 1 : nextPacketID + 1 } while inFlight[nextPacketID] != nil
            packetID = nextPacketID
            inFlight[nextPacketID] = now
        }
        client.write(.publish(Publish(topic: topic, payload: payload, qos: settings.qos, packetID: packetID)))
        stats.published()
    }

    private func received(_ packet: MQTTPacket) {
        guard case .puback(let id) = packet else { return }
        guard let sent = inFlight.removeValue(forKey: id) else {
            stats.error("PUBACK for a packet id not in flight")
            return
        }
        ackedCount += 1
        stats.acked(latencyNanos: Clock.now - sent)
        if settings.rate == nil { fill(flush: false) }
    }
}
