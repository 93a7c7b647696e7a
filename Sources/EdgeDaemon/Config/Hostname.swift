/// The rules for the device's `hostname`, from the seed (at most 64 characters, never empty)
/// and from RFC 1035, which the IoT Hub SDKs of downstream devices require (edgelet's
/// `iotedge check` quotes the same rules). An IP address is accepted as it is.
public enum Hostname {
    public enum Problem: Equatable, Sendable {
        /// Empty or longer than 64 characters: the seed's message.
        case length
        /// A label breaks RFC 1035; the text says which and why.
        case label(String)
    }

    public static func validate(_ name: String) -> Problem? {
        if name.isEmpty || name.count > 64 { return .length }
        if isIPAddress(name) { return nil }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            let bytes = Array(label.utf8)
            if bytes.isEmpty { return .label("\"\(name)\" has an empty label (two dots in a row, or a dot at an end)") }
            if bytes.count > 63 { return .label("the label \"\(label)\" is longer than 63 characters") }
            guard isLetter(bytes[0]) else {
                return .label("the label \"\(label)\" does not start with a letter (a-z, A-Z)")
            }
            guard isLetter(bytes.last!) || isDigit(bytes.last!) else {
                return .label("the label \"\(label)\" does not end with a letter or a digit")
            }
            if let bad = bytes.first(where: { !(isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "-")) }) {
                return .label("the label \"\(label)\" contains \"\(Character(Unicode.Scalar(bad)))\"; only letters, digits and '-' are allowed")
            }
        }
        return nil
    }

    /// IPv4 dotted quad, or anything with a colon made of hex digits (IPv6).
    public static func isIPAddress(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ p in !p.isEmpty && p.count <= 3 && p.allSatisfy(\.isASCIIDigit) && Int(p)! <= 255 }) {
            return true
        }
        if s.contains(":") {
            return s.allSatisfy { $0 == ":" || $0 == "." || $0.isHexDigit }
        }
        return false
    }

    /// IPv4 address bytes, for a certificate's IP SAN.
    public static func ipv4Bytes(_ s: String) -> [UInt8]? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy(\.isASCIIDigit), let v = UInt8(p) else { return nil }
            out.append(v)
        }
        return out
    }

    private static func isLetter(_ b: UInt8) -> Bool { (b >= 65 && b <= 90) || (b >= 97 && b <= 122) }
    private static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
