import Twin
import EdgeDaemon
import Foundation

/// `connection-string`: the device's credentials in `[provisioning]` are complete: a hub host
/// name, a device id, and a base64 key of 16 to 64 bytes.
public struct ConnectionString: Checker {
    public let id = "connection-string"
    public let description = "config.toml has a well-formed connection string or device key"
    public let fix = "Copy the device's connection string again: iothub device connection-string <device>"

    public init() {}

    public func run(_ context: CheckContext) async -> CheckResult {
        guard let config = context.config else {
            if let error = context.configState.error, error.message.contains("provisioning") {
                return CheckResult(.failed, ["\(error)"])
            }
            return .skipped("config.toml cannot be read; see config-toml-well-formed.")
        }
        let p = config.provisioning
        if let problem = Self.problem(hub: p.iothubHostname, device: p.deviceID, key: p.deviceKey) {
            return .failed("\(config.file) [provisioning]: \(problem)", fix: fix)
        }
        return .ok("device \(p.deviceID) on \(p.iothubHostname), key from \(p.keySource)",
                   info: ["iothub_hostname": .string(p.iothubHostname), "device_id": .string(p.deviceID)])
    }

    /// What is wrong with the credentials, or nil.
    public static func problem(hub: String, device: String, key: String) -> String? {
        if hub.isEmpty { return "the hub's host name (HostName / iothub_hostname) is empty" }
        if Hostname.validate(hub) != nil { return "the hub's host name \"\(hub)\" is not a valid host name" }
        if device.isEmpty { return "the device id (DeviceId / device_id) is empty" }
        guard let bytes = Data(base64Encoded: key) else { return "the device key is not base64" }
        guard (16...64).contains(bytes.count) else { return "the device key is \(bytes.count) bytes; a key is 16 to 64" }
        return nil
    }
}
