/// An IoT Hub connection string: `Key=Value` pairs joined by `;`, as the portal and the SDKs
/// write them (`HostName=…;DeviceId=…;SharedAccessKey=…`, or `…;SharedAccessKeyName=…` for a
/// service policy). Values may contain `=` (base64 keys), so only the first `=` splits.
public struct ConnectionString: Sendable, Equatable, CustomStringConvertible {
    public var hostName: String
    public var deviceID: String?
    public var moduleID: String?
    public var sharedAccessKeyName: String?
    public var sharedAccessKey: String?
    public var gatewayHostName: String?

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case malformedPair(String)
        case missingHostName
        case missingKey
        case duplicateKey(String)

        public var description: String {
            switch self {
            case .malformedPair(let p): "connection string part \"\(p)\" is not Key=Value"
            case .missingHostName: "connection string has no HostName=…"
            case .missingKey: "connection string has no SharedAccessKey=…"
            case .duplicateKey(let k): "connection string names \(k) twice"
            }
        }
    }

    public init(hostName: String, deviceID: String? = nil, moduleID: String? = nil,
                sharedAccessKeyName: String? = nil, sharedAccessKey: String? = nil,
                gatewayHostName: String? = nil) {
        self.hostName = hostName
        self.deviceID = deviceID
        self.moduleID = moduleID
        self.sharedAccessKeyName = sharedAccessKeyName
        self.sharedAccessKey = sharedAccessKey
        self.gatewayHostName = gatewayHostName
    }

    public init(parsing text: String) throws(ParseError) {
        var fields: [String: String] = [:]
        for part in text.split(separator: ";", omittingEmptySubsequences: true) {
            let trimmed = part.trimmingWhitespace()
            guard let eq = trimmed.firstIndex(of: "="), eq != trimmed.startIndex else {
                throw .malformedPair(String(trimmed))
            }
            let key = String(trimmed[..<eq])
            if fields[key] != nil { throw .duplicateKey(key) }
            fields[key] = String(trimmed[trimmed.index(after: eq)...])
        }
        guard let host = fields["HostName"], !host.isEmpty else { throw .missingHostName }
        guard let key = fields["SharedAccessKey"], !key.isEmpty else { throw .missingKey }
        self.init(hostName: host, deviceID: fields["DeviceId"], moduleID: fields["ModuleId"],
                  sharedAccessKeyName: fields["SharedAccessKeyName"], sharedAccessKey: key,
                  gatewayHostName: fields["GatewayHostName"])
    }

    public var description: String {
        var parts = ["HostName=\(hostName)"]
        if let deviceID { parts.append("DeviceId=\(deviceID)") }
        if let moduleID { parts.append("ModuleId=\(moduleID)") }
        if let sharedAccessKeyName { parts.append("SharedAccessKeyName=\(sharedAccessKeyName)") }
        if let sharedAccessKey { parts.append("SharedAccessKey=\(sharedAccessKey)") }
        if let gatewayHostName { parts.append("GatewayHostName=\(gatewayHostName)") }
        return parts.joined(separator: ";")
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var s = self
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return s
    }
}
