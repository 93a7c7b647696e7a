import ArgumentParser

/// A cloud-to-device message's system and application properties as the headers of
/// `POST /$outpost/devices/{d}/messages/devicebound`. Everything here travels in HTTP headers, so
/// it is checked before the request: a bad character would otherwise fail deep in the HTTP client
/// or reach the device changed.
struct C2DMessageHeaders {
    enum Ack: String, ExpressibleByArgument, CaseIterable {
        case none, positive, negative, full
    }

    var messageID: String
    var correlationID: String?
    var contentType: String?
    var contentEncoding: String?
    var ack: Ack?
    var ttl: Int?
    var properties: [(name: String, value: String)] = []

    var headers: [(String, String)] {
        var headers = [("iothub-messageid", messageID)]
        if let correlationID { headers.append(("iothub-correlationid", correlationID)) }
        if let contentType { headers.append(("iothub-contenttype", contentType)) }
        if let contentEncoding { headers.append(("iothub-contentencoding", contentEncoding)) }
        if let ack { headers.append(("iothub-ack", ack.rawValue)) }
        if let ttl { headers.append(("iothub-expiry", String(ttl))) }
        for p in properties { headers.append(("iothub-app-\(p.name)", p.value)) }
        return headers
    }

    /// IoT Hub's longest time to live, 48 hours.
    static let ttlRange = 1...172_800

    /// Parses the `--property` arguments (`name=value`, split at the first `=`). Header names are
    /// case-insensitive, so two names differing only in case would collide.
    static func properties(_ arguments: [String]) throws -> [(name: String, value: String)] {
        var seen = Set<String>()
        return try arguments.map { argument in
            let p = try property(argument)
            guard seen.insert(p.name.lowercased()).inserted else {
                throw ValidationError("--property \(p.name) is given twice (names are case-insensitive).")
            }
            return p
        }
    }

    static func property(_ argument: String) throws -> (name: String, value: String) {
        guard let eq = argument.firstIndex(of: "="), eq != argument.startIndex else {
            throw ValidationError("--property '\(argument)' is not name=value, e.g. --property severity=high.")
        }
        let name = String(argument[..<eq]), value = String(argument[argument.index(after: eq)...])
        guard name.utf8.allSatisfy(isTokenByte) else {
            throw ValidationError("--property '\(argument)': a name may only have letters, digits and !#$%&'*+-.^_`|~ (it travels as an HTTP header name).")
        }
        try checkValue(value, option: "--property \(name)")
        return (name, value)
    }

    /// IoT Hub's rule for message ids: up to 128 ASCII letters, digits and `-:.+%_#*?!(),=@;$'`.
    static func checkMessageID(_ id: String, option: String) throws {
        let allowed = Set("-:.+%_#*?!(),=@;$'".utf8)
        guard (1...128).contains(id.utf8.count) else {
            throw ValidationError("\(option) must be 1…128 characters long, not \(id.utf8.count).")
        }
        guard id.utf8.allSatisfy({ isAlphanumeric($0) || allowed.contains($0) }) else {
            throw ValidationError("\(option) '\(id)' may only have ASCII letters, digits and -:.+%_#*?!(),=@;$' characters.")
        }
    }

    /// A header value reaches the hub unchanged only without control characters and without
    /// spaces at its ends (HTTP trims them).
    static func checkValue(_ value: String, option: String) throws {
        guard !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw ValidationError("\(option) contains a control character (such as a newline or tab), which an HTTP header cannot carry.")
        }
        guard value.first != " " && value.last != " " else {
            throw ValidationError("\(option) '\(value)' begins or ends with a space, which HTTP would drop.")
        }
    }

    private static func isAlphanumeric(_ b: UInt8) -> Bool {
        (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
    }

    /// RFC 9110 `tchar`.
    private static func isTokenByte(_ b: UInt8) -> Bool {
        isAlphanumeric(b) || Set("!#$%&'*+-.^_`|~".utf8).contains(b)
    }
}
