import Yams

/// `iotedge config import`: a `config.yaml` of IoT Edge 1.0 and 1.1 (`provisioning` with
/// `device_connection_string`, `agent`, `hostname`, `connect`, `listen`, `homedir`,
/// `moby_runtime`) turned into the `config.toml` that iotedged reads. Pure: text in, text out.
public enum LegacyConfigImport {
    public struct Result: Sendable, Equatable {
        public var toml: String
        /// What could not be carried over and why, one line each.
        public var notes: [String]
    }

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var line: Int?
        public var message: String
        public var description: String { line.map { "line \($0): \(message)" } ?? message }
    }

    public static func convert(yaml text: String) throws(Failure) -> Result {
        // YAML forbids tabs in indentation; the 1.0 docs warned of it in these words.
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let indent = line.prefix { $0 == " " || $0 == "\t" }
            if indent.contains("\t") {
                throw Failure(line: i + 1, message: "YAML files cannot contain tabs as indentation. Use 2 spaces instead.")
            }
        }
        let root: [String: Any]
        do {
            guard let loaded = try Yams.load(yaml: text) as? [String: Any] else {
                throw Failure(line: nil, message: "the file is not a YAML mapping (expected provisioning:, agent:, hostname: …)")
            }
            root = loaded
        } catch let failure as Failure {
            throw failure
        } catch let error as YamlError {
            throw Failure(line: Self.line(of: error), message: "not valid YAML: \(error)")
        } catch {
            throw Failure(line: nil, message: "not valid YAML: \(error)")
        }

        var notes: [String] = []
        var out: [String] = ["# Imported from a legacy config.yaml by `iotedge config import`."]
        if let hostname = root["hostname"] as? String, !hostname.isEmpty, !hostname.contains("<") {
            out.append("hostname = \(TOMLText.string(hostname))")
        } else {
            notes.append("hostname was not set (or still the placeholder): the machine's host name is used")
        }
        if let home = root["homedir"] as? String { out.append("homedir = \(TOMLText.string(home))") }

        guard let provisioning = root["provisioning"] as? [String: Any] else {
            throw Failure(line: nil, message: "provisioning: is missing: the device's connection string is needed")
        }
        let source = provisioning["source"] as? String ?? "manual"
        guard source == "manual" else {
            throw Failure(line: nil, message: "provisioning source \"\(source)\" is not supported: only manual provisioning with a connection string is")
        }
        guard let connection = provisioning["device_connection_string"] as? String, !connection.isEmpty, !connection.contains("<") else {
            throw Failure(line: nil, message: "provisioning.device_connection_string is missing or still the placeholder: put the device's connection string there")
        }
        out += ["", "[provisioning]", "source = \"manual\"", "connection_string = \(TOMLText.string(connection))"]

        if let agent = root["agent"] as? [String: Any] {
            out += ["", "[agent]", "name = \(TOMLText.string(agent["name"] as? String ?? "edgeAgent"))"]
            let type = agent["type"] as? String ?? "docker"
            out.append("type = \(TOMLText.string(type == "docker" ? "docker" : type))")
            let config = agent["config"] as? [String: Any] ?? [:]
            out += ["", "[agent.config]", "image = \(TOMLText.string(config["image"] as? String ?? "edge-agent"))"]
            if let auth = config["auth"] as? [String: Any], !auth.isEmpty {
                notes.append("agent.config.auth (registry credentials) is not carried over: use `iotedgectl login`")
            }
            if let env = agent["env"] as? [String: Any], !env.isEmpty {
                out += ["", "[agent.env]"]
                for key in env.keys.sorted() { out.append("\(TOMLText.key(key)) = \(TOMLText.string("\(env[key]!)"))") }
            }
        }
        for section in ["connect", "listen"] {
            guard let uris = root[section] as? [String: Any] else { continue }
            var lines: [String] = []
            for key in ["management_uri", "workload_uri"] {
                guard let uri = uris[key] as? String else { continue }
                if uri.hasPrefix("unix://") {
                    lines.append("\(key) = \(TOMLText.string(uri))")
                } else {
                    notes.append("\(section).\(key) \(uri) is not carried over: only unix:// sockets are served (fd:// was systemd's socket activation); the default under homedir is used")
                }
            }
            if !lines.isEmpty { out += ["", "[\(section)]"] + lines }
        }
        if root["moby_runtime"] != nil { notes.append("moby_runtime is dropped: Outpost runs modules as processes") }
        if root["certificates"] != nil { notes.append("certificates are not carried over: iotedged makes its own edge CA; give the hub's CA with trust_bundle_cert") }
        return Result(toml: out.joined(separator: "\n") + "\n", notes: notes)
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }
}

/// TOML text for the values the CLI writes.
public enum TOMLText {
    public static func string(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if c.value < 0x20 || c.value == 0x7f {
                    let hex = String(c.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out + "\""
    }

    public static func key(_ k: String) -> String {
        k.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") } && !k.isEmpty ? k : string(k)
    }
}
