import Twin
import IoTProtocol
import TOMLKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension EdgeConfig {
    /// Reads and validates `path`. Every refusal is a `ConfigError` naming the file, the line
    /// and what to change.
    public static func load(path: String, defaultHome: String = EdgePaths.defaultHomeDirectory(),
                            systemHostname: @autoclosure () -> String = EdgePaths.systemHostname()) throws(ConfigError) -> EdgeConfig {
        guard let bytes = FileIO.read(path) else {
            let why = String(cString: strerror(errno))
            throw ConfigError(file: path, message: "cannot read the config file: \(why)",
                              fix: FileIO.exists(path)
                                ? "Make it readable by the user that runs iotedged."
                                : "Create it (start from the example in the README: hostname, [provisioning] with a connection_string, [agent]) or give its path with --config.")
        }
        return try parse(String(decoding: bytes, as: UTF8.self), file: path, defaultHome: defaultHome,
                         systemHostname: systemHostname())
    }

    /// Parses config.toml text. `readFile` reads the files the config points at (keys, the trust
    /// bundle); tests give their own.
    public static func parse(_ text: String, file: String, defaultHome: String = EdgePaths.defaultHomeDirectory(),
                             systemHostname: @autoclosure () -> String = EdgePaths.systemHostname(),
                             readFile: @escaping (String) -> [UInt8]? = { FileIO.read($0) }) throws(ConfigError) -> EdgeConfig {
        var parser = ConfigParser(text: text, file: file, readFile: readFile)
        return try parser.parse(defaultHome: defaultHome, systemHostname: systemHostname)
    }
}

/// The validation, one section at a time; `fail` finds the line of the key it complains about.
private struct ConfigParser {
    let lines: TOMLLines
    let text: String
    let file: String
    let readFile: (String) -> [UInt8]?
    var notes: [String] = []

    init(text: String, file: String, readFile: @escaping (String) -> [UInt8]?) {
        self.text = text
        self.lines = TOMLLines(text)
        self.file = file
        self.readFile = readFile
    }

    func fail(_ key: String?, _ message: String, fix: String) -> ConfigError {
        let line = key.flatMap { lines.line(of: $0) }
        return ConfigError(file: file, line: line, lineText: lines.text(ofLine: line), message: message, fix: fix)
    }

    static let knownIgnored: [String: String] = [
        "moby_runtime": "[moby_runtime] is ignored: Outpost runs modules as processes, not containers",
        "parent_hostname": "parent_hostname is ignored: nested edge devices are not supported yet",
        "edge_ca": "[edge_ca] is ignored: the daemon makes its own edge CA in the data directory",
        "watchdog": "[watchdog] is ignored: the daemon always restarts edgeAgent when it stops",
        "image_garbage_collection": "[image_garbage_collection] is ignored: there are no images to collect",
        "allow_elevated_docker_permissions": "allow_elevated_docker_permissions is ignored: modules are processes",
        "prefer_module_identity_cache": "prefer_module_identity_cache is ignored: identities come from the hub, the cache is the fallback",
        "auto_reprovisioning_mode": "auto_reprovisioning_mode is ignored: provisioning is manual",
        "cloud_timeout_sec": "cloud_timeout_sec is ignored",
        "cloud_retries": "cloud_retries is ignored",
        "aziot_keys": "[aziot_keys] is ignored: keys are kept in the data directory",
        "tpm": "[tpm] is ignored: TPM attestation is not supported",
        "cert_issuance": "[cert_issuance] is ignored: only manual provisioning with a symmetric key is supported",
    ]

    static let known: Set<String> = ["hostname", "homedir", "provisioning", "trust_bundle_cert", "agent", "connect", "listen"]

    mutating func parse(defaultHome: String, systemHostname: () -> String) throws(ConfigError) -> EdgeConfig {
        let root: TOMLTable
        do { root = try TOMLTable(string: text) } catch let error as TOMLParseError {
            let line = error.source.begin.line
            throw ConfigError(file: file, line: line, lineText: lines.text(ofLine: line),
                              message: "config.toml is not valid TOML: \(error.description)",
                              fix: "Correct the syntax at line \(line), column \(error.source.begin.column): strings need double quotes, sections are written [name], values key = value.")
        } catch {
            throw ConfigError(file: file, message: "config.toml is not valid TOML: \(error)", fix: "Correct the file's syntax.")
        }

        for key in root.keys.sorted() where !Self.known.contains(key) {
            notes.append(Self.knownIgnored[key] ?? "\(key) is not a setting Outpost knows; ignored (line \(lines.line(of: key).map(String.init) ?? "?"))")
        }

        // A top-level setting written after a [section] header belongs to that section in
        // TOML, and would be silently missed: say so.
        for section in root.keys.sorted() {
            guard let table = root[section]?.table else { continue }
            for key in ["hostname", "homedir", "trust_bundle_cert"] where table[key] != nil {
                throw fail("\(section).\(key)", "\(key) is inside [\(section)], so it is read as \(section).\(key) and not as the device's \(key)",
                           fix: "Move the \(key) line above the first [section] header of the file.")
            }
        }

        let hostname = try parseHostname(root, systemHostname: systemHostname)
        let home = try parseHome(root, defaultHome: defaultHome)
        let provisioning = try parseProvisioning(root)
        let (trustPEM, trustPath) = try parseTrustBundle(root)
        let agent = try parseAgent(root)
        let connect = try parseEndpoints(root, "connect")
        let listen = try parseEndpoints(root, "listen")
        return EdgeConfig(file: file, hostname: hostname, homeDirectory: home, provisioning: provisioning,
                          trustBundlePEM: trustPEM, trustBundlePath: trustPath, agent: agent,
                          connect: connect, listen: listen, notes: notes)
    }

    // MARK: hostname and homedir

    func parseHostname(_ root: TOMLTable, systemHostname: () -> String) throws(ConfigError) -> String {
        let name: String
        let fromFile: Bool
        if let value = root["hostname"] {
            guard let s = value.string else {
                throw fail("hostname", "hostname must be a string", fix: "Write it in double quotes: hostname = \"my-device\".")
            }
            name = s
            fromFile = true
        } else {
            name = systemHostname()
            fromFile = false
        }
        let whereFrom = fromFile ? "" : " (hostname is not set in the file, so the machine's host name \"\(name)\" was used)"
        switch Hostname.validate(name) {
        case nil:
            return name
        case .length:
            throw fail(fromFile ? "hostname" : nil, ConfigError.invalidHostnameMessage + whereFrom,
                       fix: "Set hostname = \"…\" to a name of 1 to 64 characters that resolves to this device, such as a VM's DNS name label (<label>.<location>.cloudapp.azure.com), then restart iotedged.")
        case .label(let why):
            throw fail(fromFile ? "hostname" : nil, "invalid hostname: \(why) (RFC 1035)" + whereFrom,
                       fix: "Use letters, digits and '-' in each dot-separated label, starting with a letter and ending with a letter or digit (or an IP address), then restart iotedged.")
        }
    }

    func parseHome(_ root: TOMLTable, defaultHome: String) throws(ConfigError) -> String {
        guard let value = root["homedir"] else { return defaultHome }
        guard let s = value.string, s.hasPrefix("/") else {
            throw fail("homedir", "homedir must be an absolute path in double quotes",
                       fix: "Write homedir = \"/var/lib/outpost\" (the directory for identities, certificates, logs and sockets).")
        }
        return s.count > 1 && s.hasSuffix("/") ? String(s.dropLast()) : s
    }

    // MARK: provisioning

    func string(_ table: TOMLTable, _ key: String, _ path: String) throws(ConfigError) -> String? {
        guard let value = table[key] else { return nil }
        guard let s = value.string else {
            throw fail(path, "\(path) must be a string", fix: "Write it in double quotes: \(key) = \"…\".")
        }
        return s
    }

    func parseProvisioning(_ root: TOMLTable) throws(ConfigError) -> EdgeConfig.Provisioning {
        let example = "Add:\n       [provisioning]\n       source = \"manual\"\n       connection_string = \"HostName=<hub>;DeviceId=<device>;SharedAccessKey=<key>\"\n     (`iothub device connection-string <device>` prints the string)."
        guard let value = root["provisioning"] else {
            throw fail(nil, "the [provisioning] section is missing: the daemon does not know which hub and device it is", fix: example)
        }
        guard let p = value.table else {
            throw fail("provisioning", "provisioning must be a table ([provisioning])", fix: example)
        }
        guard let source = try string(p, "source", "provisioning.source") else {
            throw fail("provisioning", "provisioning.source is missing", fix: "Add source = \"manual\" under [provisioning].")
        }
        guard source == "manual" else {
            throw fail("provisioning.source", "provisioning.source = \"\(source)\" is not supported: Outpost provisions manually",
                       fix: "Use source = \"manual\" with a connection_string, or iothub_hostname, device_id and [provisioning.authentication] method = \"sas\".")
        }
        var port = 443
        if let v = p["iothub_https_port"] {
            guard let n = v.int, (1...65535).contains(n) else {
                throw fail("provisioning.iothub_https_port", "provisioning.iothub_https_port must be a port number (1-65535)",
                           fix: "Write iothub_https_port = 443, or leave it out for Azure's 443.")
            }
            port = n
        }
        let cs = try string(p, "connection_string", "provisioning.connection_string")
        let hub = try string(p, "iothub_hostname", "provisioning.iothub_hostname")
        if cs != nil, hub != nil || p["device_id"] != nil || p["authentication"] != nil {
            throw fail("provisioning.iothub_hostname", "[provisioning] has both connection_string and iothub_hostname/device_id/authentication",
                       fix: "Keep one: the connection_string, or iothub_hostname, device_id and [provisioning.authentication].")
        }
        if let cs {
            return try parseConnectionString(cs, port: port)
        }
        guard let hub, !hub.isEmpty else {
            throw fail("provisioning", "[provisioning] has neither connection_string nor iothub_hostname", fix: example)
        }
        guard let device = try string(p, "device_id", "provisioning.device_id"), !device.isEmpty else {
            throw fail("provisioning.iothub_hostname", "provisioning.device_id is missing", fix: "Add device_id = \"<device>\" under [provisioning].")
        }
        guard let auth = p["authentication"]?.table else {
            throw fail("provisioning.device_id", "[provisioning.authentication] is missing",
                       fix: "Add:\n       [provisioning.authentication]\n       method = \"sas\"\n       device_id_pk = { value = \"<base64 key>\" }")
        }
        let method = try string(auth, "method", "provisioning.authentication.method") ?? ""
        guard method == "sas" else {
            throw fail("provisioning.authentication.method",
                       method.isEmpty ? "provisioning.authentication.method is missing" : "provisioning.authentication.method = \"\(method)\" is not supported",
                       fix: "Use method = \"sas\" with device_id_pk = { value = \"<base64 key>\" } or { uri = \"file:///path/to/key\" }.")
        }
        let (key, keySource) = try parseDeviceKey(auth)
        return EdgeConfig.Provisioning(iothubHostname: hub, deviceID: device, deviceKey: key, keySource: keySource, iothubHTTPSPort: port)
    }

    func parseConnectionString(_ text: String, port: Int) throws(ConfigError) -> EdgeConfig.Provisioning {
        let key = "provisioning.connection_string"
        let cs: ConnectionString
        do { cs = try ConnectionString(parsing: text) } catch {
            throw fail(key, "provisioning.connection_string is not a connection string: \(error)",
                       fix: "Copy the device's connection string again (`iothub device connection-string <device>`): HostName=…;DeviceId=…;SharedAccessKey=….")
        }
        guard cs.sharedAccessKeyName == nil else {
            throw fail(key, "provisioning.connection_string is a shared access policy's (\(cs.sharedAccessKeyName!)), not a device's",
                       fix: "Use the edge device's own connection string: HostName=…;DeviceId=…;SharedAccessKey=….")
        }
        guard let device = cs.deviceID, !device.isEmpty else {
            throw fail(key, "provisioning.connection_string has no DeviceId", fix: "Use the edge device's connection string, which names its DeviceId.")
        }
        guard cs.moduleID == nil else {
            throw fail(key, "provisioning.connection_string is a module's (ModuleId=\(cs.moduleID!)), not a device's",
                       fix: "Use the edge device's own connection string, without ModuleId.")
        }
        let sak = cs.sharedAccessKey ?? ""
        guard SymmetricKeyGenerator.isValid(sak) else {
            throw fail(key, "the SharedAccessKey of provisioning.connection_string is not a base64 key of 16 to 64 bytes",
                       fix: "Copy the device's connection string again; the key must not be cut or altered.")
        }
        return EdgeConfig.Provisioning(iothubHostname: cs.hostName, deviceID: device, deviceKey: sak,
                                       keySource: "connection_string", iothubHTTPSPort: port)
    }

    func parseDeviceKey(_ auth: TOMLTable) throws(ConfigError) -> (String, String) {
        let path = "provisioning.authentication.device_id_pk"
        let fix = "Write device_id_pk = { value = \"<base64 key>\" } or device_id_pk = { uri = \"file:///var/secrets/device-id.key\" }."
        guard let pk = auth["device_id_pk"] else { throw fail("provisioning.authentication", "\(path) is missing", fix: fix) }
        guard let t = pk.table else { throw fail(path, "\(path) must be an inline table", fix: fix) }
        if let value = try string(t, "value", path + ".value") {
            guard SymmetricKeyGenerator.isValid(value) else {
                throw fail(path + ".value", "\(path).value is not a base64 key of 16 to 64 bytes", fix: "Copy the device's primary key again.")
            }
            return (value, "device_id_pk.value")
        }
        guard let uri = try string(t, "uri", path + ".uri") else { throw fail(path, "\(path) has neither value nor uri", fix: fix) }
        guard let file = Self.filePath(uri) else {
            throw fail(path + ".uri", "\(path).uri \"\(uri)\" is not a file:// URI (PKCS#11 is not supported)", fix: fix)
        }
        guard let bytes = readFile(file) else {
            throw fail(path + ".uri", "cannot read the device key file \(file): \(String(cString: strerror(errno)))",
                       fix: "Put the key in that file (the base64 text, or its raw bytes) readable by iotedged, or fix the path.")
        }
        // aziot's key files hold the raw key bytes; a base64 text is accepted too.
        let asText = String(decoding: bytes, as: UTF8.self).trimmingSpaces()
        if SymmetricKeyGenerator.isValid(asText) { return (asText, file) }
        guard (16...64).contains(bytes.count) else {
            throw fail(path + ".uri", "the device key file \(file) holds neither a base64 key nor 16 to 64 raw key bytes",
                       fix: "Write the device's primary key into it: `echo -n '<base64 key>' > \(file)`.")
        }
        return (Base64.encode(bytes), file)
    }

    /// `file:///a/b` is `/a/b`; a plain absolute path is taken as it is.
    static func filePath(_ uri: String) -> String? {
        if uri.hasPrefix("file://") {
            let p = String(uri.dropFirst("file://".count))
            return p.hasPrefix("/") ? (PercentEncoding.decode(p) ?? p) : nil
        }
        return uri.hasPrefix("/") ? uri : nil
    }

    // MARK: trust bundle

    func parseTrustBundle(_ root: TOMLTable) throws(ConfigError) -> (String?, String?) {
        guard let uri = try string(root, "trust_bundle_cert", "trust_bundle_cert") else { return (nil, nil) }
        guard let path = Self.filePath(uri) else {
            throw fail("trust_bundle_cert", "trust_bundle_cert \"\(uri)\" is not a file:// URI",
                       fix: "Write trust_bundle_cert = \"file:///path/to/ca.pem\" (the hub's CA: `ca.pem` in the hub's data directory).")
        }
        guard let bytes = readFile(path) else {
            throw fail("trust_bundle_cert", "cannot read trust_bundle_cert \(path): \(String(cString: strerror(errno)))",
                       fix: "Copy the hub's CA certificate (ca.pem in the hub's data directory) to \(path), or fix the path.")
        }
        let pem = String(decoding: bytes, as: UTF8.self)
        guard pem.contains("-----BEGIN CERTIFICATE-----") else {
            throw fail("trust_bundle_cert", "trust_bundle_cert \(path) holds no PEM certificate",
                       fix: "Give the PEM file of the hub's CA (text starting with -----BEGIN CERTIFICATE-----).")
        }
        return (pem, path)
    }

    // MARK: agent

    func parseAgent(_ root: TOMLTable) throws(ConfigError) -> EdgeConfig.Agent {
        guard let value = root["agent"] else { return EdgeConfig.Agent() }
        guard let a = value.table else {
            throw fail("agent", "agent must be a table ([agent])", fix: "Write [agent] with name, type, [agent.config] image and [agent.env].")
        }
        var agent = EdgeConfig.Agent()
        if let name = try string(a, "name", "agent.name") {
            guard !name.isEmpty else { throw fail("agent.name", "agent.name is empty", fix: "Write name = \"edgeAgent\".") }
            agent.name = name
        }
        if let type = try string(a, "type", "agent.type") {
            guard type == "process" || type == "docker" else {
                throw fail("agent.type", "agent.type = \"\(type)\" is not a module type Outpost runs",
                           fix: "Write type = \"process\" (Outpost runs modules as processes; \"docker\" is accepted and maps the image to Outpost's executables).")
            }
            agent.type = type
        }
        agent.imagePullPolicy = try string(a, "imagePullPolicy", "agent.imagePullPolicy")
        if let c = a["config"] {
            guard let config = c.table else {
                throw fail("agent.config", "agent.config must be a table", fix: "Write [agent.config] with image = \"edge-agent\".")
            }
            guard let image = try string(config, "image", "agent.config.image"), !image.isEmpty else {
                throw fail("agent.config", "agent.config.image is missing",
                           fix: "Write image = \"edge-agent\" (an executable next to iotedged, or an absolute path) under [agent.config].")
            }
            agent.image = image
            if let options = config["createOptions"] {
                if let s = options.string {
                    guard let json = try? JSONText.decode(s) else {
                        throw fail("agent.config.createOptions", "agent.config.createOptions is not JSON",
                                   fix: "Write it as a TOML inline table: createOptions = { Cmd = [\"--flag\"] }.")
                    }
                    agent.createOptions = json
                } else {
                    agent.createOptions = Self.json(options)
                }
            }
        } else {
            throw fail("agent", "[agent.config] is missing", fix: "Add [agent.config] with image = \"edge-agent\".")
        }
        if let e = a["env"] {
            guard let env = e.table else {
                throw fail("agent.env", "agent.env must be a table", fix: "Write [agent.env] with one KEY = \"value\" a line.")
            }
            for key in env.keys {
                guard let v = env[key] else { continue }
                let text: String
                if let s = v.string { text = s }
                else if let i = v.int { text = String(i) }
                else if let b = v.bool { text = b ? "true" : "false" }
                else if let d = v.double { text = String(d) }
                else {
                    throw fail("agent.env.\(key)", "agent.env.\(key) must be a string, number or boolean",
                               fix: "Write \(key) = \"value\".")
                }
                agent.env.append(EnvironmentVariable(key: key, value: text))
            }
        }
        return agent
    }

    static func json(_ value: TOMLValueConvertible) -> JSONValue {
        if let s = value.string { return .string(s) }
        if let i = value.int { return .number(Double(i)) }
        if let d = value.double { return .number(d) }
        if let b = value.bool { return .bool(b) }
        if let t = value.table {
            var o: [String: JSONValue] = [:]
            for k in t.keys { if let v = t[k] { o[k] = json(v) } }
            return .object(o)
        }
        if let a = value.array { return .array(a.map { json($0) }) }
        return .string(value.debugDescription)
    }

    // MARK: connect and listen

    func parseEndpoints(_ root: TOMLTable, _ section: String) throws(ConfigError) -> EdgeConfig.Endpoints? {
        guard let value = root[section] else { return nil }
        guard let t = value.table else {
            throw fail(section, "\(section) must be a table ([\(section)])", fix: "Write [\(section)] with management_uri and workload_uri.")
        }
        var uris: [String: String] = [:]
        for key in ["management_uri", "workload_uri"] {
            guard let uri = try string(t, key, "\(section).\(key)") else { continue }
            guard let path = EdgeConfig.socketPath(uri) else {
                throw fail("\(section).\(key)", "\(section).\(key) \"\(uri)\" is not a unix:// URI with an absolute path",
                           fix: "Write \(key) = \"unix:///var/lib/outpost/\(key == "management_uri" ? "mgmt" : "workload").sock\" (fd:// and http:// are not supported).")
            }
            guard path.utf8.count < 108 else {
                throw fail("\(section).\(key)", "the socket path \(path) is \(path.utf8.count) bytes; a unix socket path must be shorter than 108",
                           fix: "Choose a shorter path for the socket.")
            }
            uris[key] = uri
        }
        guard !uris.isEmpty else { return nil }
        // A half-given section borrows the other URI from the defaults later (EdgeConfig.init).
        return EdgeConfig.Endpoints(managementURI: uris["management_uri"] ?? "", workloadURI: uris["workload_uri"] ?? "")
    }
}
