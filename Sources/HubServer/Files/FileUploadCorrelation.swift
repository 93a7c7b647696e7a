import Foundation
import IoTProtocol

/// The `correlationId` a device gets with its upload URL and gives back in its notification.
/// It carries the device, container, blob and issue time, signed with the storage key, so the
/// hub needs no table of pending uploads: a notification proves itself, across restarts too.
/// Form: `base64url(deviceId \n container \n blob \n issued)` `.` `base64url(HMAC-SHA256)`.
public struct FileUploadCorrelation: Sendable, Equatable {
    public var deviceID: String
    public var container: String
    public var blob: String
    public var issued: Int64

    public func token(key: String) -> String {
        let payload = Self.base64URL(Data([deviceID, container, blob, String(issued)].joined(separator: "\n").utf8))
        return payload + "." + Self.mac(payload, key: key)
    }

    /// The correlation inside `token` if this hub's key signed it, else nil.
    public init?(token: String, key: String) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, Self.mac(String(parts[0]), key: key) == parts[1],
              let data = Self.fromBase64URL(String(parts[0])) else { return nil }
        let fields = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 4, let issued = Int64(fields[3]) else { return nil }
        self.init(deviceID: fields[0], container: fields[1], blob: fields[2], issued: issued)
    }

    public init(deviceID: String, container: String, blob: String, issued: Int64) {
        self.deviceID = deviceID; self.container = container; self.blob = blob; self.issued = issued
    }

    private static func mac(_ payload: String, key: String) -> String {
        base64URL(Data(base64Encoded: StorageSAS.sign("fileupload\n" + payload, base64Key: key) ?? "") ?? Data())
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func fromBase64URL(_ text: String) -> Data? {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s)
    }
}
