/// A module's identity on the hub, as far as the daemon needs it: the key it signs tokens with
/// (workload API `sign`) and the generation id that tells one incarnation from the next.
public struct ModuleIdentity: Codable, Sendable, Equatable {
    /// As the hub names it: `$edgeAgent`, `$edgeHub`, or the module's name.
    public var moduleId: String
    public var generationId: String
    public var primaryKey: String
    public var managedBy: String?

    public init(moduleId: String, generationId: String, primaryKey: String, managedBy: String? = "iotEdge") {
        self.moduleId = moduleId
        self.generationId = generationId
        self.primaryKey = primaryKey
        self.managedBy = managedBy
    }

    /// The module's name in the runtime: `$edgeHub` runs as `edgeHub` (edgelet trims the `$`).
    public var runtimeName: String { moduleId.hasPrefix("$") ? String(moduleId.dropFirst()) : moduleId }

    /// The identity's id for a runtime module name: edgeAgent and edgeHub are `$`-prefixed on
    /// the hub, every other module is named the same in both places.
    public static func moduleID(forRuntimeName name: String) -> String {
        name == "edgeAgent" || name == "edgeHub" ? "$" + name : name
    }
}

/// The device the daemon acts for: its hub, id and key (from `[provisioning]`).
public struct DeviceCredentials: Sendable, Equatable {
    public var hubHostname: String
    public var deviceID: String
    public var key: String
    public var httpsPort: Int

    public init(hubHostname: String, deviceID: String, key: String, httpsPort: Int = 443) {
        self.hubHostname = hubHostname
        self.deviceID = deviceID
        self.key = key
        self.httpsPort = httpsPort
    }

    public init(_ p: EdgeConfig.Provisioning) {
        self.init(hubHostname: p.iothubHostname, deviceID: p.deviceID, key: p.deviceKey, httpsPort: p.iothubHTTPSPort)
    }
}
