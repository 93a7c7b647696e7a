import EdgeRoutes
import Foundation
import HubServer
import HubStore
import IoTProtocol
import Logging
import NIOCore
import Prometheus

/// Routes what modules send: every message is stored first (the local broker acknowledges it
/// only then), and each sink reads the store from its own position, so a sink that cannot
/// deliver (the hub out of reach, a module not listening) waits without holding up the others
/// and loses nothing until the message's TTL; every drop is counted.
actor Router {
    private let hub: Hub
    private let upstream: Upstream
    private let logger: Logger
    private let metrics: EdgeHubMetrics
    private var routes: RouteSet
    private var positions: [RouteSink: Int64] = [:]
    /// The newest message counted as received, so each is counted once whatever the sinks.
    private var received: Int64

    init(hub: Hub, upstream: Upstream, routes: RouteSet, metrics: EdgeHubMetrics, logger: Logger) {
        self.hub = hub
        self.upstream = upstream
        self.routes = routes
        self.metrics = metrics
        self.logger = logger
        self.received = hub.feed.latest
    }

    func setRoutes(_ routes: RouteSet) { self.routes = routes }

    func run() async {
        while !Task.isCancelled {
            var progressed = false
            var behind = false
            var seen = hub.feed.latest
            for sink in Set(routes.entries.map(\.route.sink)) {
                progressed = await drain(sink) || progressed
                let position = positions[sink] ?? 0
                if position < hub.feed.latest { behind = true }
                seen = min(seen, position)
            }
            if progressed { continue }
            if behind {
                // A sink that cannot take messages yet (upstream offline, a module not connected).
                try? await Task.sleep(for: .milliseconds(200))
            } else {
                // Every sink has all there is: wait for the next commit instead of reading the
                // store five times a second (idle, that kept GRDB's and SQLite's read path
                // resident). The timeout picks up sinks of routes changed meanwhile.
                await hub.feed.wait(after: seen, timeout: .seconds(1))
            }
        }
    }

    /// What to do with one stored message for one sink.
    private enum Step {
        /// No route sends it to this sink, or it outlived its TTL (`expired` names its sender
        /// and TTL, for the drop count and the log): done with it.
        case pass(Int64, expired: (from: String, ttl: Int)?)
        case send(TelemetryRecord, route: String)
    }

    /// Delivers what `sink` has not had yet; returns whether it got anywhere.
    private func drain(_ sink: RouteSink) async -> Bool {
        let name = "route:\(sink)"
        var position: Int64
        if let p = positions[sink] { position = p } else {
            position = (try? await hub.store.consumerGroupPosition(name)) ?? 0
        }
        let start = position
        if position >= hub.feed.latest {
            positions[sink] = position
            metrics.queueLength("\(sink)", 0)
            return false
        }
        guard let batch = try? await hub.store.messages(after: position, limit: 200), !batch.isEmpty else { return false }
        let steps = plan(batch, for: sink)
        var i = 0
        delivering: while i < steps.count {
            switch steps[i] {
            case .pass(let seq, let expired):
                passed(seq, expired, sink)
                position = seq
                i += 1
            case .send(let record, let route):
                guard case .upstream = sink else {
                    do { try await deliver(record, to: sink) } catch {
                        logger.debug("\(sink) cannot take messages yet: \(error)")
                        break delivering
                    }
                    delivered(record, to: sink, route: route)
                    position = record.sequenceNumber ?? position
                    i += 1
                    continue
                }
                // Upstream: the following messages of the same sender go together, in order,
                // without a round trip each (messages passed over in between ride along).
                let run = upstreamRun(steps, from: i)
                let records = run.compactMap { if case .send(let r, _) = $0 { return r } else { return nil } }
                let acknowledged = await upstream.send(run: records)
                var sent = 0
                for step in run {
                    if case .send(let r, let route) = step {
                        guard sent < acknowledged else { break }
                        sent += 1
                        delivered(r, to: sink, route: route)
                        position = r.sequenceNumber ?? position
                    } else if case .pass(let seq, let expired) = step {
                        passed(seq, expired, sink)
                        position = seq
                    }
                }
                if acknowledged < records.count {
                    logger.debug("$upstream cannot take messages yet: \(records.count - acknowledged) of \(records.count) not acknowledged")
                    break delivering
                }
                i += run.count
            }
        }
        positions[sink] = position
        metrics.queueLength("\(sink)", max(0, hub.feed.latest - position))
        if position != start { try? await hub.store.setConsumerGroupPosition(name, position) }
        return position != start
    }

    /// Steps from `start`: sends of one sender (at most 64) and the passes between them.
    private func upstreamRun(_ steps: [Step], from start: Int) -> [Step] {
        guard case .send(let first, _) = steps[start] else { return [steps[start]] }
        var run: [Step] = []
        var sends = 0
        for step in steps[start...] {
            if case .send(let r, _) = step {
                guard sends < 64, r.deviceId == first.deviceId, r.moduleId == first.moduleId else { break }
                sends += 1
            }
            run.append(step)
        }
        // A run ends on its last send: trailing passes wait for the next run's outcome.
        while let last = run.last, case .pass = last { run.removeLast() }
        return run
    }

    /// Which messages of `batch` go to `sink`, counting received ones and dropping expired ones.
    private func plan(_ batch: [TelemetryRecord], for sink: RouteSink) -> [Step] {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var steps: [Step] = []
        for record in batch {
            let seq = record.sequenceNumber ?? 0
            let message = Self.routable(record)
            let from = IdentityID(deviceID: record.deviceId, moduleID: record.moduleId).clientID
            if seq > received {
                received = seq
                if case .module(_, _, let output) = message.source { metrics.received(from: from, output: output) } else { metrics.received(from: from, output: nil) }
            }
            guard let delivery = routes.match(message).first(where: { $0.sink == sink }) else {
                steps.append(.pass(seq, expired: nil))
                continue
            }
            if record.enqueuedTime + Int64(delivery.ttl) * 1000 < now {
                steps.append(.pass(seq, expired: (from, delivery.ttl)))
                continue
            }
            steps.append(.send(record, route: delivery.routeName))
        }
        return steps
    }

    /// Counted when the position moves past it, so a drop is counted once however often the
    /// batch is planned again.
    private func passed(_ seq: Int64, _ expired: (from: String, ttl: Int)?, _ sink: RouteSink) {
        guard let expired else { return }
        metrics.dropped(from: expired.from, reason: "ttl_expiry")
        logger.warning("Dropped a message for \(sink): it waited longer than its time to live (\(expired.ttl) s)")
    }

    private func delivered(_ record: TelemetryRecord, to sink: RouteSink, route: String) {
        let from = IdentityID(deviceID: record.deviceId, moduleID: record.moduleId).clientID
        metrics.sent(from: from, to: "\(sink)")
        logger.debug("Routed message \(record.sequenceNumber ?? 0) from \(from) to \(sink) by route \(route)")
    }

    private func deliver(_ record: TelemetryRecord, to sink: RouteSink) async throws {
        switch sink {
        case .upstream:
            try await upstream.send(record)
        case .moduleInput(let module, let input):
            let clientID = IdentityID(deviceID: record.deviceId, moduleID: module).clientID
            guard hub.connections.isSubscribed(clientID, to: .moduleInputs) else {
                throw SettingsError("\(clientID) is not connected and listening for input messages")
            }
            // At least once: the position moves on only after the module's PUBACK; a message
            // sent on a connection that dies unacknowledged goes again on the next one.
            let receipt = DeliveryReceipt()
            guard hub.connections.push(.moduleInput(input: input, properties: Upstream.bag(record), payload: ByteBuffer(bytes: record.body),
                                                    receipt: receipt), to: clientID),
                  await receipt.wait(seconds: 30) else {
                throw SettingsError("\(clientID) did not acknowledge the message for input \(input)")
            }
        }
    }

    static func routable(_ record: TelemetryRecord) -> RoutableMessage {
        let system = (try? JSONDecoder().decode([String: String].self, from: Data(record.systemProperties.utf8))) ?? [:]
        let properties = (try? JSONDecoder().decode([String: String].self, from: Data(record.properties.utf8))) ?? [:]
        var routeSystem: [String: String] = [:]
        for (from, to) in [("content-type", "contentType"), ("content-encoding", "contentEncoding"), ("message-id", "messageId"),
                           ("correlation-id", "correlationId"), ("user-id", "userId")] {
            if let v = system[from] { routeSystem[to] = v }
        }
        let source: RoutableMessage.Source = record.moduleId.map {
            .module(deviceId: record.deviceId, moduleId: $0, output: system["output-name"])
        } ?? .device(record.deviceId)
        return RoutableMessage(source: source, properties: properties, systemProperties: routeSystem, body: Array(record.body))
    }
}

