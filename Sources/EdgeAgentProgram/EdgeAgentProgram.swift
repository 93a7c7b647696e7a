import AsyncHTTPClient
import EdgeAgent
import EdgeModule
import Foundation
import IoTClient
import Logging
import Twin

/// edgeAgent, started by iotedged as a system module: reads the deployment from its module
/// twin, keeps the module runtime equal to it, and reports what runs. The `edge-agent`
/// executable runs it, and so does `iotedged` when started as `edge-agent` (argv[0]): the
/// daemon starts edgeAgent from its own executable so the processes share its text pages.
public enum EdgeAgentProgram {
    public static func main() async {
        await ModuleMain.run(label: "edgeAgent", startLines: ["Starting module management agent.", "Version - \(AgentReport.version)"],
                             stopping: "Edge agent is stopping") { env, logger in
            try await run(env: env, logger: logger)
        }
    }

    static func run(env: [String: String], logger: Logger) async throws {
        func need(_ key: String) throws -> String {
            guard let v = env[key], !v.isEmpty else { throw EdgeModuleError("\(key) is not set: edgeAgent is started by iotedged, which sets it") }
            return v
        }
        let hubHost = try need("IOTEDGE_IOTHUBHOSTNAME"), device = try need("IOTEDGE_DEVICEID")
        let module = env["IOTEDGE_MODULEID"] ?? "$edgeAgent", generation = env["IOTEDGE_MODULEGENERATIONID"] ?? ""
        let http = HTTPClient.shared  // lives as long as the process; never shut down
        let management = try EdgeAPIClient(http: http, uri: try need("IOTEDGE_MANAGEMENTURI"))
        let workloadURI = try need("IOTEDGE_WORKLOADURI")
        let storage = env["StorageFolder"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: String(workloadURI.dropFirst(workloadURI.hasPrefix("unix://") ? 7 : 0)))
                .deletingLastPathComponent().appendingPathComponent("storage").appendingPathComponent("edgeAgent")
        let workload = try EdgeAPIClient(http: http, uri: workloadURI)
        try FileManager.default.createDirectory(at: storage, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let agent = Agent(runtime: RuntimeClient(api: management), logger: logger, storage: storage)

        // Modules keep running on the last good deployment whatever the hub does.
        _ = await agent.reconcile()

        let identity = WorkloadClient(api: workload, moduleID: module, generationID: generation)
        let trust = try await identity.trustBundle()
        var config = IoTClientConfiguration(hostName: hubHost, deviceID: device, moduleID: module,
                                            credentials: .signer({ try await identity.sign($0) }))
        config.trustedCAPEM = trust
        config.transports = transports(env["UpstreamProtocol"], logger: logger)
        config.productInfo = "outpost-edgeAgent/\(AgentReport.version)"
        let client = try IoTClient(configuration: config, logger: logger, attemptMessage: { transport in
            "Edge agent attempting to connect to IoT Hub via \(transport == .mqtt ? "MQTT" : "MQTT over WebSocket")..."
        })
        do {
            try await client.connect()
        } catch {
            throw EdgeModuleError("could not connect to IoT Hub \(hubHost) by any upstream protocol: \(error). Check the network and DNS from this device to \(hubHost):8883 and :443 (iotedge check).")
        }
        logger.info("Edge agent connected to IoT Hub \(hubHost)")
        try await client.enableDesiredPatches()
        let methods = AgentMethods(agent: agent, management: management, hub: hubHost, device: device,
                                   uploads: try BlobUploader(trustBundlePEM: trust), logger: logger)
        try await client.onMethod { request in await methods.handle(request) }
        await agent.apply(desired: try await client.getTwin()["desired"] ?? .null)

        let patches = client.desiredPatches
        let events = client.connectionEvents
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in patches {
                    // A patch is partial; the twin's whole desired document is the deployment.
                    if let twin = try? await client.getTwin() { await agent.apply(desired: twin["desired"] ?? .null) }
                    await report(agent, client, logger)
                }
            }
            group.addTask {
                for await event in events {
                    if case .connected = event {
                        await agent.forgetReport()
                        if let twin = try? await client.getTwin() { await agent.apply(desired: twin["desired"] ?? .null) }
                    }
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    await report(agent, client, logger)
                    try? await Task.sleep(for: .seconds(2))
                }
            }
        }
    }

    static func report(_ agent: Agent, _ client: IoTClient, _ logger: Logger) async {
        guard let document = await agent.reconcile() else { return }
        do { _ = try await client.patchReported(document) } catch {
            logger.warning("Reporting module status to IoT Hub failed (will retry): \(error)")
            await agent.forgetReport()
        }
    }

    /// `UpstreamProtocol`: Mqtt, MqttWs; Amqp and AmqpWs are not spoken, so MQTT is used.
    static func transports(_ value: String?, logger: Logger) -> [IoTClientTransport] {
        guard let value, !value.isEmpty else { return [.mqtt, .mqttWebSocket] }
        if let t = IoTClientTransport(upstreamProtocol: value) { return [t] }
        logger.warning("UpstreamProtocol \(value) is not supported by Outpost; using MQTT, then MQTT over WebSocket")
        return [.mqtt, .mqttWebSocket]
    }

}
