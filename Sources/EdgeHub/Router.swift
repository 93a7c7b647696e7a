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
            for sink in Set(routes.entries.map(\.route.sink)) {
                progressed = await drain(sink) || progressed
            }
            if !progressed { try? await Task.sleep(for: .milliseconds(200)) }
        }
    }

    /// Delivers what `sink` has not had yet; returns whether it got anywhere.
    private func drain(_ sink: RouteSink) async -> Bool {
        let name = "route:\(sink)"
        var position: Int64
        if let p = positions[sink] { position = p } else {
            position = (try? await hub.store.consumerGroupPosition(name)) ?? 0
        }
        let start = position
        guard let batch = try? await hub.store.messages(after: position, limit: 200), !batch.isEmpty else { return false }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for record in batch {
            let message = Self.routable(record)
            let from = IdentityID(deviceID: record.deviceId, moduleID: record.moduleId).clientID
            if let seq = record.sequenceNumber, seq > received {
                received = seq
                if case .module(_, _, let output) = message.source { metrics.received(from: from, output: output) } else { metrics.received(from: from, output: nil) }
            }
            guard let delivery = routes.match(message).first(where: { $0.sink == sink }) else {
                position = record.sequenceNumber ?? position
                continue
            }
            if record.enqueuedTime + Int64(delivery.ttl) * 1000 < now {
                metrics.dropped(from: from, reason: "ttl_expiry")
                logger.warning("Dropped a message for \(sink): it waited longer than its time to live (\(delivery.ttl) s)")
                position = record.sequenceNumber ?? position
                continue
            }
            do {
                try await deliver(record, to: sink)
                metrics.sent(from: from, to: "\(sink)")
                logger.debug("Routed message \(record.sequenceNumber ?? 0) from \(from) to \(sink) by route \(delivery.routeName)")
                position = record.sequenceNumber ?? position
            } catch {
                logger.debug("\(sink) cannot take messages yet: \(error)")
                break
            }
        }
        positions[sink] = position
        metrics.queueLength("\(sink)", max(0, hub.feed.latest - position))
        if position != start { try? await hub.store.setConsumerGroupPosition(name, position) }
        return position != start
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

