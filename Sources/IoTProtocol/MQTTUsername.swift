/// The MQTT user name Azure IoT clients send:
/// `{hubHostName}/{clientId}/?api-version=…&DeviceClientType=…[&model-id=…]`.
public struct MQTTUsername: Sendable, Equatable {
    public var hostName: String
    public var clientID: String
    public var parameters: [String: String]

    public init?(parsing text: String) {
        let pathPart: Substring
        var query: Substring = ""
        if let range = text.range(of: "/?") {
            pathPart = text[..<range.lowerBound]
            query = text[range.upperBound...]
        } else {
            pathPart = Substring(text.hasSuffix("/") ? String(text.dropLast()) : text)
        }
        guard let slash = pathPart.firstIndex(of: "/") else { return nil }
        hostName = String(pathPart[..<slash])
        clientID = String(pathPart[pathPart.index(after: slash)...])
        parameters = [:]
        for pair in query.split(separator: "&") {
            let eq = pair.firstIndex(of: "=")
            let key = eq.map { pair[..<$0] } ?? pair
            let value = eq.map { pair[pair.index(after: $0)...] } ?? ""
            parameters[PercentEncoding.decode(key) ?? String(key)] = PercentEncoding.decode(value) ?? String(value)
        }
        if hostName.isEmpty || clientID.isEmpty { return nil }
    }

    public var apiVersion: String? { parameters["api-version"] }
    /// The SDK's user agent, which the connection log reports as `sdkVersion`.
    public var deviceClientType: String? { parameters["DeviceClientType"] }
    public var modelID: String? { parameters["model-id"] }
}
