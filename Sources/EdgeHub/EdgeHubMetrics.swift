import HubServer
import Prometheus

/// IoT Edge's edgeHub metrics (WIRE.md), for Prometheus on :9600, each with the labels
/// `iothub`, `edge_device` and `instance_number` that IoT Edge's carry.
final class EdgeHubMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "edgehub", metricName: metric, unitName: unit, helpText: help)
    }
    static let received = name("messages_received", "total", "Messages edgeHub received from modules and downstream devices")
    static let sent = name("messages_sent", "total", "Messages edgeHub delivered to an endpoint")
    static let dropped = name("messages_dropped", "total", "Messages edgeHub dropped, by reason")
    static let queue = name("queue_length", "", "Messages stored and not yet delivered to the endpoint")
    static let connectFailed = name("client_connect_failed", "total", "Clients the local broker refused")
    static let offline = name("offline_count", "total", "Times edgeHub lost its connection to IoT Hub")
    static let connected = name("connected_clients", "", "Clients connected to edgeHub")
    private let common: [(String, String)]

    init(settings: EdgeHubSettings, instance: String) {
        common = [("iothub", settings.hubHost), ("edge_device", settings.deviceID), ("instance_number", instance)]
    }

    /// A message a module or a downstream device sent, stored by edgeHub.
    func received(from id: String, output: String?) {
        registry.makeCounter(descriptor: Self.received, labels: common + [("id", id), ("route_output", output ?? "")]).increment()
    }

    func sent(from id: String, to sink: String) {
        registry.makeCounter(descriptor: Self.sent, labels: common + [("from", id), ("to", sink)]).increment()
    }

    func dropped(from id: String, reason: String) {
        registry.makeCounter(descriptor: Self.dropped, labels: common + [("from", id), ("reason", reason)]).increment()
    }

    /// Messages stored and not yet delivered to `endpoint`.
    func queueLength(_ endpoint: String, _ length: Int64) {
        registry.makeGauge(descriptor: Self.queue, labels: common + [("endpoint", endpoint), ("priority", "2000000000")]).set(Double(length))
    }

    func clientConnectFailed(id: String, reason: String) {
        registry.makeCounter(descriptor: Self.connectFailed, labels: common + [("id", id), ("reason", reason)]).increment()
    }

    /// The upstream link to the hub went down.
    func wentOffline() {
        registry.makeCounter(descriptor: Self.offline, labels: common + [("id", "$edgeHub")]).increment()
    }

    func connectedClients(_ count: Int) {
        registry.makeGauge(descriptor: Self.connected, labels: common + [("id", "$edgeHub")]).set(Double(count))
    }

    /// Counts clients the local broker refused, from the Connections log's records.
    func watch(_ hub: Hub) {
        hub.diagnostics.observe { [self] record in
            guard record.operationName == "deviceConnect", let error = record.error else { return }
            let id = [record.deviceID, record.moduleID].compactMap { $0 }.joined(separator: "/")
            clientConnectFailed(id: id.isEmpty ? "unknown" : id, reason: "\(error.rawValue)")
        }
    }

    func text(connected: Int) -> String {
        connectedClients(connected)
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
