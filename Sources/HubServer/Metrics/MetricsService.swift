import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// Samples the gauges once a second, writes each finished minute to the store, and serves
/// Prometheus text on `http://<bind address>:<metrics port>/metrics`.
struct MetricsService: Service {
    let hub: Hub

    func run() async throws {
        let metrics = hub.metrics
        let server = try await startPrometheusListener()
        var totalDevices = try await Double(hub.store.registryStatistics().total)
        var lastMinute = Int64(Date().timeIntervalSince1970) / 60
        var tick = 0
        var heapTrim = HeapTrimPolicy()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let now = Date()
            if tick % 10 == 0, let stats = try? await hub.store.registryStatistics() { totalDevices = Double(stats.total) }
            metrics.sample(.connectedDeviceCount, Double(hub.connections.connectedDeviceCount), at: now)
            if heapTrim.observe(connections: hub.connections.count) { trimHeap() }
            metrics.sample(.totalDeviceCount, totalDevices, at: now)
            let minute = Int64(now.timeIntervalSince1970) / 60
            if minute > lastMinute {
                await persist(minutes: lastMinute..<minute)
                metrics.prune(before: Int64(now.timeIntervalSince1970) - HubMetrics.secondsKept)
                lastMinute = minute
            }
            tick += 1
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
        }
        // The minute in progress, so that a restart does not leave a hole in the history.
        await persist(minutes: lastMinute..<(lastMinute + 1))
        try? await server?.close()
    }

    /// On a thread of its own: a trim of a large heap takes milliseconds.
    private func trimHeap() {
        let logger = hub.logger
        Thread.detachNewThread {
            let before = HeapTrim.residentBytes()
            HeapTrim.run()
            let after = HeapTrim.residentBytes()
            logger.debug("returned the memory of closed connections to the system", metadata: [
                "residentMiBBefore": "\(before.map { $0 >> 20 } ?? 0)", "residentMiBAfter": "\(after.map { $0 >> 20 } ?? 0)",
            ])
        }
    }

    private func persist(minutes: Range<Int64>) async {
        let rows = minutes.suffix(60).flatMap { hub.metrics.minuteRows(minute: $0) }
        do { try await hub.store.saveMetricSamples(rows) } catch {
            hub.logger.error("saving metric history failed", metadata: ["error": "\(error)"])
        }
    }

    private func startPrometheusListener() async throws -> Channel? {
        let port = hub.config.metricsPort
        guard port > 0 else { return nil }
        let metrics = hub.metrics
        return try await PrometheusEndpoint.listen(host: hub.config.bindAddress, port: port) { metrics.prometheusText() }
    }
}

/// A plain-HTTP `GET /metrics` listener with Prometheus text (the hub's, and edgeHub's :9600).
public enum PrometheusEndpoint {
    public static func listen(host: String, port: Int, render: @escaping @Sendable () -> String) async throws -> Channel {
        let respond: HTTPServerHandler.Respond = { request in
            guard request.method == .GET, request.path == "/metrics" else {
                return HTTPResponse(status: .notFound, headers: ["Content-Type": "text/plain"],
                                    body: .bytes(ByteBuffer(string: "Only GET /metrics is served here.\n")))
            }
            return HTTPResponse(headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                                body: .bytes(ByteBuffer(string: render())))
        }
        do {
            return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.pipeline.configureHTTPServerPipeline().flatMap {
                        channel.pipeline.addHandler(HTTPServerHandler(respond: respond))
                    }
                }
                .bind(host: host, port: port).get()
        } catch {
            throw HubSetupError.cannotListen("\(host):\(port) (Prometheus metrics)",
                                             "\(error); choose another port, or 0 to turn metrics off")
        }
    }
}
