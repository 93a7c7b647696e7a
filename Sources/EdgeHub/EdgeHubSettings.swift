import Foundation

/// What edgeHub learns from its environment (iotedged sets it).
public struct EdgeHubSettings: Sendable {
    public var hubHost: String
    public var hubHTTPSPort = 443
    public var deviceID: String
    public var moduleID: String
    public var generationID: String
    /// The address edgeHub listens on and modules connect to (`IOTEDGE_GATEWAYHOSTNAME`).
    public var gatewayHost: String
    public var workloadURI: String
    public var storage: URL
    public var mqttPort = 8883
    public var httpsPort = 443
    /// edgehub_* metrics for Prometheus; 0 turns them off.
    public var metricsPort = 9600
    /// `storeAndForwardConfiguration.timeToLiveSecs` until the twin says otherwise.
    public var defaultTTL = 7200
    /// `OptimizeForPerformance` (default true); false trades throughput for memory (seed 000's
    /// "Stability issues on resource constrained devices").
    public var optimizeForPerformance = true

    public init(environment env: [String: String]) throws {
        func need(_ key: String) throws -> String {
            guard let v = env[key], !v.isEmpty else {
                throw SettingsError("\(key) is not set: edgeHub is started by iotedged, which sets it")
            }
            return v
        }
        hubHost = try need("IOTEDGE_IOTHUBHOSTNAME")
        deviceID = try need("IOTEDGE_DEVICEID")
        moduleID = env["IOTEDGE_MODULEID"] ?? "$edgeHub"
        generationID = env["IOTEDGE_MODULEGENERATIONID"] ?? ""
        gatewayHost = env["IOTEDGE_GATEWAYHOSTNAME"] ?? env["EdgeDeviceHostName"] ?? "127.0.0.1"
        workloadURI = try need("IOTEDGE_WORKLOADURI")
        storage = EdgeHubSettings.storage(env, workloadURI: workloadURI, module: "edgeHub")
        if let p = env["OUTPOST_EDGEHUB_MQTT_PORT"].flatMap(Int.init) { mqttPort = p }
        if let p = env["OUTPOST_EDGEHUB_HTTPS_PORT"].flatMap(Int.init) { httpsPort = p }
        if let p = env["OUTPOST_EDGEHUB_METRICS_PORT"].flatMap(Int.init) { metricsPort = p }
        if let p = env["OUTPOST_IOTHUB_HTTPS_PORT"].flatMap(Int.init) { hubHTTPSPort = p }
        if let v = env["OptimizeForPerformance"] {
            switch v.lowercased() {
            case "false", "0", "no": optimizeForPerformance = false
            case "true", "1", "yes", "": optimizeForPerformance = true
            default: throw SettingsError("OptimizeForPerformance=\(v): use true or false")
            }
        }
    }
}

extension EdgeHubSettings {
    /// `StorageFolder`, else beside the daemon's sockets (its home), so that what a module keeps
    /// belongs to this edge device and survives restarts.
    public static func storage(_ env: [String: String], workloadURI: String, module: String) -> URL {
        if let folder = env["StorageFolder"], !folder.isEmpty { return URL(fileURLWithPath: folder) }
        let socket = URL(fileURLWithPath: String(workloadURI.dropFirst(workloadURI.hasPrefix("unix://") ? 7 : 0)))
        return socket.deletingLastPathComponent().appendingPathComponent("storage").appendingPathComponent(module)
    }
}

public struct SettingsError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
