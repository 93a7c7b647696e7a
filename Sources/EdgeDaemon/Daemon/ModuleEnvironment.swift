/// The variables the daemon gives every module (WIRE.md "Module client on an edge device",
/// the plan's list), so that `IoTHubModuleClient.create_from_edge_environment()` works
/// unmodified: IOTEDGE_IOTHUBHOSTNAME, IOTEDGE_DEVICEID, IOTEDGE_MODULEID,
/// IOTEDGE_MODULEGENERATIONID, IOTEDGE_WORKLOADURI, IOTEDGE_APIVERSION, IOTEDGE_AUTHSCHEME, and
/// IOTEDGE_GATEWAYHOSTNAME for modules that talk to edgeHub. edgeAgent also gets
/// IOTEDGE_MANAGEMENTURI, EdgeDeviceHostName and Mode, as edgelet gives it. A module's own
/// `env` overrides any of them.
public struct ModuleEnvironment: Sendable {
    public var hubHostname: String
    public var deviceID: String
    /// `hostname` of config.toml: where modules find edgeHub.
    public var gatewayHostname: String
    public var workloadURI: String
    public var managementURI: String
    public var agentName: String
    public var apiVersion = "2019-01-30"

    public init(config: EdgeConfig) {
        hubHostname = config.provisioning.iothubHostname
        deviceID = config.provisioning.deviceID
        gatewayHostname = config.hostname
        workloadURI = config.connect.workloadURI
        managementURI = config.connect.managementURI
        agentName = config.agent.name
    }

    public init(hubHostname: String, deviceID: String, gatewayHostname: String, workloadURI: String,
                managementURI: String, agentName: String = "edgeAgent") {
        self.hubHostname = hubHostname
        self.deviceID = deviceID
        self.gatewayHostname = gatewayHostname
        self.workloadURI = workloadURI
        self.managementURI = managementURI
        self.agentName = agentName
    }

    public func variables(for moduleName: String, identity: ModuleIdentity?) -> [EnvironmentVariable] {
        let isAgent = moduleName == agentName || moduleName == "edgeAgent"
        let isHub = moduleName == "edgeHub"
        let moduleId = identity?.moduleId ?? ModuleIdentity.moduleID(forRuntimeName: isAgent ? "edgeAgent" : moduleName)
        var out: [EnvironmentVariable] = [
            .init(key: "IOTEDGE_IOTHUBHOSTNAME", value: hubHostname),
            .init(key: "IOTEDGE_DEVICEID", value: deviceID),
            .init(key: "IOTEDGE_MODULEID", value: moduleId),
        ]
        if let generation = identity?.generationId, !generation.isEmpty {
            out.append(.init(key: "IOTEDGE_MODULEGENERATIONID", value: generation))
        }
        out += [
            .init(key: "IOTEDGE_WORKLOADURI", value: workloadURI),
            .init(key: "IOTEDGE_APIVERSION", value: apiVersion),
            .init(key: "IOTEDGE_AUTHSCHEME", value: "sasToken"),
        ]
        if isAgent {
            out += [
                .init(key: "IOTEDGE_MANAGEMENTURI", value: managementURI),
                .init(key: "EdgeDeviceHostName", value: gatewayHostname),
                .init(key: "Mode", value: "iotedged"),
            ]
        } else if isHub {
            out.append(.init(key: "EdgeDeviceHostName", value: gatewayHostname))
        } else {
            out.append(.init(key: "IOTEDGE_GATEWAYHOSTNAME", value: gatewayHostname))
        }
        return out
    }
}
