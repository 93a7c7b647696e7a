import Foundation
import Twin

/// Takes secrets out of what goes into a support bundle, which people attach to tickets and
/// forum posts: the values of keys, passwords, tokens and connection strings in config.toml,
/// deployments and module environments become `<redacted>`. A connection string keeps its
/// `HostName` and `DeviceId` (they tell which hub and device the bundle is about) and loses its
/// `SharedAccessKey`. Known secret values (the device key read from the config) are also
/// replaced wherever they appear, whatever the key around them is called.
public struct BundleRedaction: Sendable {
    public static let placeholder = "<redacted>"

    /// Exact secret values to remove anywhere (the device key); empty strings are ignored.
    public var knownSecrets: [String]

    public init(knownSecrets: [String] = []) {
        self.knownSecrets = knownSecrets.filter { $0.count >= 4 }
    }

    /// Whether a setting or variable of this name holds a secret. `key` alone is not one: it is
    /// the name field of `{key, value}` environment pairs.
    public static func isSecretName(_ name: String) -> Bool {
        let n = name.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
        let last = n.split(separator: ".").last.map(String.init) ?? n
        if last == "key" || last == "key_id" || last == "keyid" { return false }
        if last == "pk" || last.hasSuffix("_pk") { return true }
        let words = ["key", "password", "passwd", "secret", "token", "connection_string", "connectionstring",
                     "sas", "signature"]
        return words.contains { last.contains($0) }
    }

    /// Redacts connection-string and SAS parts, and known secrets, in any text.
    public func redactInline(_ text: String) -> String {
        var out = text
        for secret in knownSecrets { out = out.replacingOccurrences(of: secret, with: Self.placeholder) }
        // `SharedAccessKey=…;`, `SharedAccessSignature=SharedAccessSignature sr=…&sig=…`, and a
        // bare SAS token's `sig=…`: up to the next separator or quote.
        let patterns = [
            #"(SharedAccessKey\s*=\s*)[^;"'\s]+"#,
            #"(SharedAccessSignature\s*[= ]\s*)(SharedAccessSignature\s+)?[^;"'\s]+"#,
            #"([?&\s]sig=)[^&;"'\s]+"#,
        ]
        for pattern in patterns {
            out = out.replacingOccurrences(of: pattern, with: "$1" + Self.placeholder, options: [.regularExpression, .caseInsensitive])
        }
        return out
    }

    /// config.toml with the values of secret settings redacted, line by line, so that its
    /// layout (and a syntax error in it) stays as the user wrote it.
    public func redactTOML(_ text: String) -> String {
        var out: [String] = []
        var openMultiline: String?  // the closing delimiter of a secret's multi-line string
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            if let close = openMultiline {
                if line.contains(close) { openMultiline = nil; out.append(close) } else { out.append(Self.placeholder) }
                continue
            }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.hasPrefix("#"), !trimmed.hasPrefix("["), let eq = line.firstIndex(of: "=") else {
                out.append(redactInline(line))
                continue
            }
            let name = String(line[..<eq])
            let value = String(line[line.index(after: eq)...])
            guard Self.isSecretName(name) else {
                out.append(redactInline(line))
                continue
            }
            let lowered = name.lowercased()
            if lowered.contains("connection_string") || lowered.contains("connectionstring") {
                // Keep HostName and DeviceId; the inline pass removes the key.
                let redacted = redactInline(value)
                out.append(name + "=" + (redacted == value ? Self.redactStrings(value) : redacted))
                continue
            }
            let v = value.trimmingCharacters(in: .whitespaces)
            for delimiter in ["\"\"\"", "'''"] where v.hasPrefix(delimiter) && !v.dropFirst(3).contains(delimiter) {
                openMultiline = delimiter
            }
            if openMultiline != nil {
                out.append(name + "= " + String(v.prefix(3)) + Self.placeholder)
            } else {
                out.append(name + "=" + Self.redactStrings(value))
            }
        }
        return out.joined(separator: "\n")
    }

    /// Every quoted string in a TOML value (a string, an inline table, an array) becomes
    /// `"<redacted>"`; a bare value becomes one.
    static func redactStrings(_ value: String) -> String {
        let quoted = #""(?:[^"\\]|\\.)*"|'[^']*'"#
        if value.range(of: quoted, options: .regularExpression) == nil {
            let comment = value.range(of: " #")
            return " \"\(placeholder)\"" + (comment.map { String(value[$0.lowerBound...]) } ?? "")
        }
        return value.replacingOccurrences(of: quoted, with: "\"\(placeholder)\"", options: .regularExpression)
    }

    /// A JSON document (a deployment, module details) with secret values redacted: the values
    /// under secret-named keys, the `value` of `{key, value}` pairs whose key is secret-named,
    /// and connection-string parts in every string.
    public func redactJSON(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let s):
            return .string(redactInline(s))
        case .array(let a):
            return .array(a.map(redactJSON))
        case .object(let o):
            let pairName = o["key"]?.stringValue ?? o["name"]?.stringValue
            var out: [String: JSONValue] = [:]
            for (k, v) in o {
                if k != "key", Self.isSecretName(k) || (k == "value" && pairName.map(Self.isSecretName) == true) {
                    out[k] = Self.redactAll(v)
                } else {
                    out[k] = redactJSON(v)
                }
            }
            return .object(out)
        default:
            return value
        }
    }

    /// Every string and number inside becomes `<redacted>`; the shape stays.
    static func redactAll(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string, .number: return .string(placeholder)
        case .array(let a): return .array(a.map(redactAll))
        case .object(let o): return .object(o.mapValues(redactAll))
        default: return value
        }
    }
}
