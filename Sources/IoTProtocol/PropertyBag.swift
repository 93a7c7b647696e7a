/// The property bag that Azure IoT appends to telemetry, C2D and module-input topics:
/// url-encoded `key=value` pairs joined by `&`. System properties use `$.`-prefixed keys.
public struct PropertyBag: Sendable, Equatable {
    /// Keys of system properties in the bag, with the names the Event Hubs-compatible endpoint
    /// gives them (`message-id`, `content-type`, …).
    public static let systemKeys: [(bag: String, name: String)] = [
        ("$.mid", "message-id"), ("$.cid", "correlation-id"), ("$.uid", "user-id"),
        ("$.ct", "content-type"), ("$.ce", "content-encoding"), ("$.to", "to"),
        ("$.exp", "absolute-expiry-time"), ("$.ctime", "iothub-creation-time-utc"),
        ("$.ifid", "iothub-interface-id"), ("$.on", "output-name"), ("$.schema", "dt-dataschema"),
        ("$.sub", "dt-subject"),
    ]

    public var system: [String: String]
    public var application: [String: String]
    /// Application property keys in their original order, so that round trips keep it.
    public var applicationOrder: [String]

    public init(system: [String: String] = [:], application: [(String, String)] = []) {
        self.system = system
        self.application = [:]
        self.applicationOrder = []
        for (k, v) in application {
            if self.application.updateValue(v, forKey: k) == nil { applicationOrder.append(k) }
        }
    }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case invalidEncoding(String)
        public var description: String {
            switch self { case .invalidEncoding(let p): "property \"\(p)\" is not valid url-encoding" }
        }
    }

    /// Parses the bag; a pair without `=` is a property with an empty value, as the hub treats it.
    public init(parsing text: Substring) throws(ParseError) {
        self.init()
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let eq = pair.firstIndex(of: "=")
            let rawKey = eq.map { pair[..<$0] } ?? pair
            let rawValue = eq.map { pair[pair.index(after: $0)...] } ?? ""
            guard let key = PercentEncoding.decode(rawKey), let value = PercentEncoding.decode(rawValue) else {
                throw .invalidEncoding(String(pair))
            }
            if let name = Self.systemKeys.first(where: { $0.bag == key })?.name {
                system[name] = value
            } else if application.updateValue(value, forKey: key) == nil {
                applicationOrder.append(key)
            }
        }
    }

    /// Encodes system properties first (in the SDKs' order), then application properties.
    public var encoded: String {
        var parts: [String] = []
        var seen = Set<String>()
        for (bag, name) in Self.systemKeys where !seen.contains(name) {
            seen.insert(name)
            if let v = system[name] { parts.append("\(PercentEncoding.encode(bag))=\(PercentEncoding.encode(v))") }
        }
        for k in applicationOrder {
            parts.append("\(PercentEncoding.encode(k))=\(PercentEncoding.encode(application[k] ?? ""))")
        }
        return parts.joined(separator: "&")
    }
}
