/// The client's side of the topic grammar: what a device or module publishes and subscribes to,
/// and how it reads what the hub sends it. The hub uses `Inbound` and the builders in
/// `IoTTopic.swift`; `IoTClient` and edgeHub's upstream link use these.
extension IoTTopic {
    /// What the hub publishes to a client.
    public enum Outbound: Sendable, Equatable {
        /// `$iothub/twin/res/{status}/?$rid={rid}[&$version={v}]`.
        case twinResponse(status: Int, requestID: String, version: Int?)
        /// `$iothub/twin/PATCH/properties/desired/?$version={v}`.
        case desiredPatch(version: Int?)
        /// `$iothub/methods/POST/{name}/?$rid={rid}`.
        case methodRequest(name: String, requestID: String)
        /// `devices/{d}/messages/devicebound/{bag}`.
        case cloudToDevice(deviceID: String, propertyBag: Substring)
        /// `devices/{d}/modules/{m}/inputs/{input}/{bag}`.
        case moduleInput(IdentityID, input: String, propertyBag: Substring)
    }

    public static func parseOutbound(_ topic: String) -> Outbound? {
        if topic.hasPrefix("devices/") {
            let parts = topic.split(separator: "/", maxSplits: 6, omittingEmptySubsequences: false)
            if parts.count >= 4, parts[2] == "messages", parts[3] == "devicebound" {
                return .cloudToDevice(deviceID: String(parts[1]), propertyBag: parts.count > 4 ? bagAfter(prefixCount: 4, in: topic) : "")
            }
            if parts.count >= 6, parts[2] == "modules", parts[4] == "inputs", !parts[5].isEmpty {
                let identity = IdentityID(deviceID: String(parts[1]), moduleID: String(parts[3]))
                return .moduleInput(identity, input: String(parts[5]), propertyBag: parts.count > 6 ? bagAfter(prefixCount: 6, in: topic) : "")
            }
            return nil
        }
        guard topic.hasPrefix("$iothub/") else { return nil }
        let (path, query) = splitQuery(topic)
        let segments = path.split(separator: "/")
        if path.hasPrefix("$iothub/twin/PATCH/properties/desired") {
            return .desiredPatch(version: query["$version"].flatMap { Int($0) })
        }
        guard let rid = query["$rid"], !rid.isEmpty else { return nil }
        if segments.count == 4, segments[1] == "twin", segments[2] == "res", let status = Int(segments[3]) {
            return .twinResponse(status: status, requestID: rid, version: query["$version"].flatMap { Int($0) })
        }
        if segments.count == 4, segments[1] == "methods", segments[2] == "POST" {
            return .methodRequest(name: String(segments[3]), requestID: rid)
        }
        return nil
    }

    /// `$iothub/twin/GET/?$rid={rid}`; the payload is ignored (the SDKs send a single space).
    public static func twinGetRequest(requestID: String) -> String {
        "$iothub/twin/GET/?$rid=\(requestID)"
    }

    /// `$iothub/twin/PATCH/properties/reported/?$rid={rid}`; the payload is the JSON patch.
    public static func reportedPatchRequest(requestID: String) -> String {
        "$iothub/twin/PATCH/properties/reported/?$rid=\(requestID)"
    }

    /// `$iothub/methods/res/{status}/?$rid={rid}`; the payload is the method's JSON answer.
    public static func methodResponse(status: Int, requestID: String) -> String {
        "$iothub/methods/res/\(status)/?$rid=\(requestID)"
    }

    /// The topic filter of a subscription, the inverse of `parseSubscription`.
    public static func filter(_ subscription: Subscription) -> String {
        switch subscription {
        case .cloudToDevice(let deviceID): "devices/\(deviceID)/messages/devicebound/#"
        case .moduleInputs(let identity): "devices/\(identity.deviceID)/modules/\(identity.moduleID ?? "")/inputs/#"
        case .methods: "$iothub/methods/POST/#"
        case .twinResponses: "$iothub/twin/res/#"
        case .twinDesiredPatches: "$iothub/twin/PATCH/properties/desired/#"
        }
    }
}

extension MQTTUsername {
    /// The user name an Azure IoT SDK sends:
    /// `{hostName}/{clientId}/?api-version=…&DeviceClientType={url-encoded}[&model-id={url-encoded}]`.
    /// With a model id the SDKs use api-version 2020-09-30, else 2019-10-01.
    public static func text(hostName: String, clientID: String, deviceClientType: String,
                            modelID: String? = nil, apiVersion: String? = nil) -> String {
        let version = apiVersion ?? (modelID == nil ? "2019-10-01" : "2020-09-30")
        var s = "\(hostName)/\(clientID)/?api-version=\(version)&DeviceClientType=\(PercentEncoding.encode(deviceClientType))"
        if let modelID { s += "&model-id=\(PercentEncoding.encode(modelID))" }
        return s
    }
}
