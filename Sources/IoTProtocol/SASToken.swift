#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto

/// A shared access signature token:
/// `SharedAccessSignature sr={url-encoded resource}&sig={url-encoded base64 HMAC}&se={expiry}[&skn={policy}]`.
/// The signed string is the url-encoded resource exactly as it appears in the token, a newline,
/// and the expiry in unix seconds (https://learn.microsoft.com/azure/iot-hub/authenticate-authorize-sas).
public struct SASToken: Sendable, Equatable {
    /// `sr` as it appears in the token (still url-encoded): the signature covers these bytes.
    public var encodedResource: String
    public var signature: String
    public var expiry: Int64
    public var keyName: String?

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notASharedAccessSignature
        case missingField(String)
        case invalidExpiry(String)
        case invalidEncoding(String)

        public var description: String {
            switch self {
            case .notASharedAccessSignature: "the password is not a SharedAccessSignature token"
            case .missingField(let f): "the SAS token has no \(f)= field"
            case .invalidExpiry(let e): "the SAS token's expiry \"\(e)\" is not a number of seconds"
            case .invalidEncoding(let f): "the SAS token's \(f) field is not valid url-encoding"
            }
        }
    }

    /// The resource URI, decoded (for example `myhub.example/devices/dev1`).
    public var resource: String { PercentEncoding.decode(encodedResource) ?? encodedResource }

    public init(parsing text: String) throws(ParseError) {
        let prefix = "SharedAccessSignature "
        guard text.hasPrefix(prefix) else { throw .notASharedAccessSignature }
        var fields: [String: String] = [:]
        for pair in text.dropFirst(prefix.count).split(separator: "&") {
            guard let eq = pair.firstIndex(of: "=") else { continue }
            fields[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
        guard let sr = fields["sr"] else { throw .missingField("sr") }
        guard let sig = fields["sig"], let decodedSig = PercentEncoding.decode(sig) else {
            throw fields["sig"] == nil ? .missingField("sig") : .invalidEncoding("sig")
        }
        guard let se = fields["se"] else { throw .missingField("se") }
        guard let expiry = Int64(se) else { throw .invalidExpiry(se) }
        guard PercentEncoding.decode(sr) != nil else { throw .invalidEncoding("sr") }
        self.encodedResource = sr
        self.signature = decodedSig
        self.expiry = expiry
        self.keyName = fields["skn"].flatMap { PercentEncoding.decode($0) }
    }

    /// Makes a token for `resource` (not yet encoded) signed with a base64 `key`.
    public init?(resource: String, key: String, expiry: Int64, keyName: String? = nil) {
        let encoded = PercentEncoding.encode(resource)
        guard let sig = Self.sign(encodedResource: encoded, expiry: expiry, base64Key: key) else { return nil }
        self.encodedResource = encoded
        self.signature = sig
        self.expiry = expiry
        self.keyName = keyName
    }

    public var text: String {
        var s = "SharedAccessSignature sr=\(encodedResource)&sig=\(PercentEncoding.encode(signature))&se=\(expiry)"
        if let keyName { s += "&skn=\(PercentEncoding.encode(keyName))" }
        return s
    }

    /// Base64 HMAC-SHA256 of `encodedResource + "\n" + expiry` under the decoded key.
    public static func sign(encodedResource: String, expiry: Int64, base64Key: String) -> String? {
        guard let keyData = Data(base64Encoded: base64Key) else { return nil }
        return hmacBase64(key: keyData, message: Array("\(encodedResource)\n\(expiry)".utf8))
    }

    public static func hmacBase64(key: Data, message: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))
        return Data(mac).base64EncodedString()
    }

    /// Whether the signature was made with `base64Key`; compared in constant time.
    public func isSigned(withBase64Key base64Key: String) -> Bool {
        guard let expected = Self.sign(encodedResource: encodedResource, expiry: expiry, base64Key: base64Key) else {
            return false
        }
        let a = Array(expected.utf8), b = Array(signature.utf8)
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<a.count { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    public func isExpired(now: Int64) -> Bool { expiry <= now }
}

/// Random symmetric keys in the format the hub hands out: 32 random bytes, base64.
public enum SymmetricKeyGenerator {
    public static func make() -> String {
        Data(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }).base64EncodedString()
    }

    /// A key must be base64 of 16 to 64 bytes, as IoT Hub requires.
    public static func isValid(_ key: String) -> Bool {
        guard let data = Data(base64Encoded: key) else { return false }
        return (16...64).contains(data.count)
    }
}
