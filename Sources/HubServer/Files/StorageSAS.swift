import Crypto
import Foundation
import IoTProtocol

/// An Azure Storage service SAS, as the query of a blob or container URL
/// (https://learn.microsoft.com/rest/api/storageservices/create-service-sas): `sv sr sp st se`
/// and `sig`, the base64 HMAC-SHA256 under the account key of a newline-joined string whose
/// fields depend on `sv`. Parsing keeps each field's text as given, since the signature covers
/// the text, not the value.
public struct StorageSAS: Sendable, Equatable {
    public enum Resource: String, Sendable { case container = "c", blob = "b" }

    public var version: String
    public var resource: Resource
    public var permissions: String
    public var start: String?
    public var expiry: String
    public var signature: String
    /// Fields this hub does not act on but must sign over: si, sip, spr, ses, rscc … rsct.
    public var extra: [String: String] = [:]

    /// The permissions a blob SAS may carry, in the order Azure requires.
    static let knownPermissions = "racwdxyltmeopi"
    /// The oldest `sv` whose string to sign this hub computes.
    static let oldestVersion = "2015-04-05"
    /// What the hub signs its own tokens with.
    public static let issuedVersion = "2021-06-08"

    /// Reads the SAS from a request's decoded query; throws `AuthenticationFailed` naming the
    /// field that is missing or malformed.
    public init(query: [String: String]) throws(StorageError) {
        func field(_ name: String, _ what: String) throws(StorageError) -> String {
            guard let v = query[name], !v.isEmpty else {
                throw .authenticationFailed("The SAS has no \(name)= (\(what)). Make the URL with `iothub files sas`.")
            }
            return v
        }
        version = try field("sv", "the signed version")
        guard version >= Self.oldestVersion else {
            throw .authenticationFailed("sv=\(version) is older than this hub accepts (\(Self.oldestVersion) or later).")
        }
        let sr = try field("sr", "the signed resource: c for a container, b for a blob")
        guard let resource = Resource(rawValue: sr) else {
            throw .authenticationFailed("sr=\(sr) is not supported: use sr=c (container) or sr=b (blob); snapshots, versions and directories are not served here.")
        }
        self.resource = resource
        permissions = try field("sp", "the permissions, e.g. rw")
        if let bad = permissions.first(where: { !Self.knownPermissions.contains($0) }) {
            throw .authenticationFailed("sp=\(permissions) contains '\(bad)', which is not a blob permission (r a c w d x y l t m e o p i).")
        }
        start = query["st"].flatMap { $0.isEmpty ? nil : $0 }
        expiry = try field("se", "the expiry time, e.g. 2030-01-01T00:00:00Z")
        // A '+' left unencoded in the URL reaches us as a space; base64 never contains one.
        signature = try field("sig", "the signature").replacingOccurrences(of: " ", with: "+")
        for name in ["si", "sip", "spr", "ses", "rscc", "rscd", "rsce", "rscl", "rsct"] {
            if let v = query[name], !v.isEmpty { extra[name] = v }
        }
    }

    public init(resource: Resource, permissions: String, expiry: Date, start: Date? = nil) {
        self.version = Self.issuedVersion
        self.resource = resource
        self.permissions = permissions
        self.start = start.map(Self.format)
        self.expiry = Self.format(expiry)
        self.signature = ""
    }

    /// `/blob/{account}/{container}[/{blob}]`, the resource the signature names.
    static func canonicalResource(account: String, container: String, blob: String?) -> String {
        "/blob/\(account)/\(container)" + (blob.map { "/\($0)" } ?? "")
    }

    /// The newline-joined fields for this `sv`, as Azure Storage computes them.
    func stringToSign(canonicalResource: String) -> String {
        var fields = [permissions, start ?? "", expiry, canonicalResource, extra["si"] ?? "", extra["sip"] ?? "",
                      extra["spr"] ?? "", version]
        if version >= "2018-11-09" { fields += [resource.rawValue, ""] }  // "" is the snapshot time
        if version >= "2020-12-06" { fields.append(extra["ses"] ?? "") }
        fields += ["rscc", "rscd", "rsce", "rscl", "rsct"].map { extra[$0] ?? "" }
        return fields.joined(separator: "\n")
    }

    static func sign(_ text: String, base64Key: String) -> String? {
        guard let key = Data(base64Encoded: base64Key) else { return nil }
        return SASToken.hmacBase64(key: key, message: Array(text.utf8))
    }

    /// Whether `sig` was made with `base64Key` over this resource; compared in constant time.
    func isSigned(canonicalResource: String, base64Key: String) -> Bool {
        guard let expected = Self.sign(stringToSign(canonicalResource: canonicalResource), base64Key: base64Key) else { return false }
        let a = Array(expected.utf8), b = Array(signature.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The query string (no leading `?`) of this SAS signed with `base64Key`.
    public func signedQuery(canonicalResource: String, base64Key: String) -> String {
        let sig = Self.sign(stringToSign(canonicalResource: canonicalResource), base64Key: base64Key) ?? ""
        var items = [("sv", version)]
        if let start { items.append(("st", start)) }
        items += [("se", expiry), ("sr", resource.rawValue), ("sp", permissions), ("sig", sig)]
        return items.map { "\($0.0)=\(PercentEncoding.encode($0.1))" }.joined(separator: "&")
    }

    // MARK: Time

    /// `2030-01-02T03:04:05Z`, the form Azure's libraries write.
    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false))
    }

    /// The ISO 8601 UTC forms Azure accepts: `YYYY-MM-DD`, `YYYY-MM-DDThh:mmZ`,
    /// `YYYY-MM-DDThh:mm:ssZ` (with an optional fraction of a second).
    public static func parseTime(_ text: String) -> Date? {
        var t = text
        if t.count == 10 { t += "T00:00:00Z" } else if t.count == 17, t.hasSuffix("Z") { t.insert(contentsOf: ":00", at: t.index(t.endIndex, offsetBy: -1)) }
        if let dot = t.firstIndex(of: "."), t.hasSuffix("Z") { t = String(t[..<dot]) + "Z" }
        return try? Date(t, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: false))
    }
}
