/// A device or module identity: `{deviceId}` or `{deviceId}/{moduleId}`, the MQTT client id.
public struct IdentityID: Sendable, Hashable, CustomStringConvertible {
    public var deviceID: String
    public var moduleID: String?

    public init(deviceID: String, moduleID: String? = nil) {
        self.deviceID = deviceID
        self.moduleID = moduleID
    }

    /// Parses an MQTT client id.
    public init?(clientID: String) {
        let parts = clientID.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: self.init(deviceID: String(parts[0]))
        case 2: self.init(deviceID: String(parts[0]), moduleID: String(parts[1]))
        default: return nil
        }
        guard Self.isValid(deviceID), moduleID.map(Self.isValid) ?? true else { return nil }
    }

    public var clientID: String { moduleID.map { "\(deviceID)/\($0)" } ?? deviceID }
    public var description: String { clientID }

    /// The `sr` resource of a token for this identity on `host`.
    public func resource(host: String) -> String {
        var r = "\(host)/devices/\(deviceID)"
        if let moduleID { r += "/modules/\(moduleID)" }
        return r
    }

    /// IoT Hub's rule for device and module ids: 1 to 128 characters, ASCII letters, digits and
    /// `- . + % _ # * ? ! ( ) , : = @ $ '`.
    public static func isValid(_ id: String) -> Bool {
        guard (1...128).contains(id.utf8.count) else { return false }
        let allowed = Set("-.+%_#*?!(),:=@$'".utf8)
        return id.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || allowed.contains(b)
        }
    }

    public static let validityRule =
        "1 to 128 characters: letters, digits and - . + % _ # * ? ! ( ) , : = @ $ '"
}
