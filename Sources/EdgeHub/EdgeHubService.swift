import AsyncHTTPClient
import EdgeModule
import EdgeRoutes
import Foundation
import HubServer
import HubStore
import IoTClient
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Twin

/// edgeHub: the local broker (Outpost's hub code with a certificate from the edge CA and the
/// device's module identities), the router with store-and-forward, and the upstream links.
public enum EdgeHubRunner {
    public static func run(settings: EdgeHubSettings, logger: Logger) async throws {
        let http = HTTPClient.shared  // lives as long as the process; never shut down
        let workload = WorkloadClient(api: try EdgeAPIClient(http: http, uri: settings.workloadURI),
                                      moduleID: settings.moduleID, generationID: settings.generationID)
        let trust = try await workload.trustBundle()
        let (certificate, key) = try await workload.serverCertificate(commonName: settings.gatewayHost)
        try FileManager.default.createDirectory(at: settings.storage, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])

        var config = HubConfiguration(host: settings.gatewayHost, dataDirectory: settings.storage.appendingPathComponent("broker"),
                                      mqttPort: settings.mqttPort, httpsPort: settings.httpsPort,
                                      retention: .seconds(2 * 86_400), metricsPort: 0)
        config.aliases = [settings.hubHost]
        config.lowMemory = !settings.optimizeForPerformance
        config.recentTelemetryLimit = 0
        let hub = try Hub(config: config, logger: logger,
                          certificates: HubCertificates(caPEM: trust, serverCertificatePEM: certificate, serverKeyPEM: key))

        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(trust.utf8)))
        let hubHTTP = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        let sync = IdentitySync(settings: settings, store: hub.store, workload: workload, http: hubHTTP, logger: logger)
        do {
            let modules = try await sync.sync()
            logger.info("Module identities from the hub: \(modules.sorted().joined(separator: ", "))")
        } catch {
            logger.warning("Cannot read module identities from the hub (using the last known ones): \(error)")
        }

        let routesFile = settings.storage.appendingPathComponent("routes.json")
        let metrics = EdgeHubMetrics(settings: settings, instance: UUID().uuidString.lowercased())
        metrics.watch(hub)
        let upstream = Upstream(settings: settings, store: hub.store, trustPEM: trust, logger: logger)
        hub.twinProxy = UpstreamTwins(upstream: upstream)
        let router = Router(hub: hub, upstream: upstream, routes: Self.cachedRoutes(routesFile, settings, logger),
                            metrics: metrics, logger: logger)
        let edge = EdgeHubService(settings: settings, hub: hub, router: router, upstream: upstream, sync: sync, workload: workload, trust: trust,
                                  routesFile: routesFile, metrics: metrics, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: (HubService.services(for: hub) + [edge]).map {
                .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)
            },
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do { try await group.run() } catch {
            await Self.close(upstream, hubHTTP)
            throw error
        }
        await Self.close(upstream, hubHTTP)
    }

    private static func close(_ upstream: Upstream, _ clients: HTTPClient...) async {
        await upstream.closeAll()
        for client in clients { try? await client.shutdown() }
    }

    static func cachedRoutes(_ file: URL, _ settings: EdgeHubSettings, _ logger: Logger) -> RouteSet {
        if let data = try? Data(contentsOf: file), let desired = try? JSONValue(parsing: data), let set = try? routeSet(desired, settings) {
            return set
        }
        return (try? RouteSet(routes: [:], defaultTTL: settings.defaultTTL)) ?? { fatalError("an empty route set is always valid") }()
    }

    static func routeSet(_ desired: JSONValue, _ settings: EdgeHubSettings) throws -> RouteSet {
        let ttl = desired["storeAndForwardConfiguration"]?["timeToLiveSecs"]?.numberValue.map { Int($0) } ?? settings.defaultTTL
        return try RouteSet(json: (desired["routes"] ?? .object([:])).jsonText, defaultTTL: ttl)
    }
}

/// Watches the `$edgeHub` twin for routes, re-reads identities now and then, runs the router,
/// and serves edgehub_* metrics.
struct EdgeHubService: Service {
    let settings: EdgeHubSettings
    let hub: Hub
    let router: Router
    let upstream: Upstream
    let sync: IdentitySync
    let workload: WorkloadClient
    let trust: String
    let routesFile: URL
    let metrics: EdgeHubMetrics
    let logger: Logger

    func run() async throws {
        var prometheus: Channel?
        if settings.metricsPort > 0 {
            let metrics = self.metrics
            prometheus = try await PrometheusEndpoint.listen(host: settings.gatewayHost, port: settings.metricsPort) { [hub] in metrics.text(connected: hub.connections.count) }
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await router.run() }
            group.addTask { await watchTwin() }
            group.addTask { [hub, upstream] in
                while !Task.isCancelled {
                    for clientID in hub.connections.clientIDs(subscribedTo: .methods) where clientID.contains("/") {
                        await upstream.proxyMethods(for: clientID, to: hub)
                    }
                    for clientID in hub.connections.clientIDs(subscribedTo: .desiredPatches) where clientID.contains("/") {
                        await upstream.proxyDesiredPatches(for: clientID, to: hub)
                    }
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(15))
                    _ = try? await sync.sync()
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        try? await prometheus?.close()
    }

    private func watchTwin() async {
        var config = IoTClientConfiguration(hostName: settings.hubHost, deviceID: settings.deviceID, moduleID: settings.moduleID,
                                            credentials: .signer({ [workload] in try await workload.sign($0) }))
        config.trustedCAPEM = trust
        config.productInfo = "outpost-edgeHub"
        guard let client = try? IoTClient(configuration: config, logger: logger) else { return }
        defer { Task { await client.close() } }
        while !Task.isCancelled {
            do {
                try await client.connect()
                break
            } catch {
                logger.warning("edgeHub cannot reach IoT Hub \(settings.hubHost) for its routes (using the last known ones; retrying): \(error)")
                try? await Task.sleep(for: .seconds(5))
            }
        }
        try? await client.enableDesiredPatches()
        await applyTwin(client)
        // Offline and back: counted, and the routes read again (they may have changed meanwhile).
        let events = client.connectionEvents
        Task { [metrics, logger] in
            for await event in events {
                switch event {
                case .disconnected(let reason):
                    metrics.wentOffline()
                    logger.warning("edgeHub is offline from IoT Hub \(settings.hubHost) (\(reason)); messages for $upstream wait in the store")
                case .connected:
                    await applyTwin(client)
                default:
                    break
                }
            }
        }
        for await _ in client.desiredPatches {
            await applyTwin(client)
        }
    }

    private func applyTwin(_ client: IoTClient) async {
        guard let desired = try? await client.getTwin()["desired"] else { return }
        do {
            let set = try EdgeHubRunner.routeSet(desired, settings)
            await router.setRoutes(set)
            try? desired.jsonData.write(to: routesFile, options: .atomic)
            logger.info("Routes: \(set.entries.map { "\($0.route.name): \($0.route.text)" }.joined(separator: "; "))")
        } catch {
            logger.error("The $edgeHub routes cannot be used (keeping the previous ones): \(error)")
        }
    }
}
