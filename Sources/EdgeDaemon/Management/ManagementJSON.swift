import Twin
/// The management API's JSON shapes, edgelet's (`edgelet/api/managementVersion_2020_07_07.yaml`):
/// `ModuleDetails` {id, name, type, config {settings {image, createOptions}, env [{key, value}]},
/// status {startTime, exitStatus {exitTime, statusCode}, runtimeStatus {status, description}}}.
/// `config.image` is written too, a shortcut for `config.settings.image`.
public struct ModuleDetailsJSON: Codable, Sendable, Equatable {
    public struct Settings: Codable, Sendable, Equatable {
        public var image: String
        public var createOptions: JSONValue?
    }
    public struct Config: Codable, Sendable, Equatable {
        public var image: String
        public var settings: Settings
        public var env: [EnvironmentVariable]
    }
    public struct ExitStatus: Codable, Sendable, Equatable {
        public var exitTime: String
        public var statusCode: String
    }
    public struct RuntimeStatusJSON: Codable, Sendable, Equatable {
        public var status: String
        public var description: String?
    }
    public struct Status: Codable, Sendable, Equatable {
        public var startTime: String?
        public var exitStatus: ExitStatus?
        public var runtimeStatus: RuntimeStatusJSON
        /// Outpost's: `iotedge list`'s status word and description (see `ModuleState.summary`).
        public var listStatus: String?
        public var summary: String?
    }

    public var id: String
    public var name: String
    public var type: String
    public var config: Config
    public var status: Status

    public init(_ d: ModuleDetails) {
        id = d.spec.name
        name = d.spec.name
        type = d.spec.type
        config = Config(image: d.spec.image, settings: Settings(image: d.spec.image, createOptions: d.spec.createOptions), env: d.spec.env)
        let s = d.state
        var exit: ExitStatus?
        if let t = s.exitTime, let code = s.exitCode { exit = ExitStatus(exitTime: RFC3339.format(t, fractionDigits: 3), statusCode: String(code)) }
        status = Status(startTime: s.startTime.map { RFC3339.format($0, fractionDigits: 3) }, exitStatus: exit,
                        runtimeStatus: RuntimeStatusJSON(status: s.status.rawValue, description: s.description),
                        listStatus: s.listStatus, summary: s.summary(now: RFC3339.now()))
    }
}

public struct ModuleListJSON: Codable, Sendable {
    public var modules: [ModuleDetailsJSON]
}

/// A create or update body, read leniently: edgelet's `config.settings.image` or Outpost's
/// `config.image`; `env` as edgelet's list of `{key, value}`, a `{KEY: "value"}` map, or the
/// deployment manifest's `{KEY: {"value": …}}`.
struct ModuleSpecJSON: Decodable {
    struct Settings: Decodable {
        var image: String?
        var createOptions: JSONValue?
    }
    struct Config: Decodable {
        var image: String?
        var createOptions: JSONValue?
        var settings: Settings?
        var env: [EnvironmentVariable]
        var auth: RegistryAuth?

        enum Keys: String, CodingKey { case image, createOptions, settings, env, auth }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            image = try c.decodeIfPresent(String.self, forKey: .image)
            createOptions = try c.decodeIfPresent(JSONValue.self, forKey: .createOptions)
            settings = try c.decodeIfPresent(Settings.self, forKey: .settings)
            auth = try? c.decodeIfPresent(RegistryAuth.self, forKey: .auth)
            if let list = try? c.decodeIfPresent([EnvironmentVariable].self, forKey: .env) {
                env = list
            } else if let map = try c.decodeIfPresent([String: JSONValue].self, forKey: .env) {
                env = map.keys.sorted().compactMap { key in
                    switch map[key]! {
                    case .string(let s): return EnvironmentVariable(key: key, value: s)
                    case .object(let o):
                        if case .string(let s)? = o["value"] { return EnvironmentVariable(key: key, value: s) }
                        if let v = o["value"] { return EnvironmentVariable(key: key, value: JSONText.string(v)) }
                        return nil
                    case .null: return nil
                    case let other: return EnvironmentVariable(key: key, value: JSONText.string(other))
                    }
                }
            } else {
                env = []
            }
        }
    }

    var name: String
    var type: String?
    var config: Config
    var imagePullPolicy: String?

    func spec() throws(RuntimeError) -> ModuleSpec {
        guard let image = config.settings?.image ?? config.image, !image.isEmpty else {
            throw .invalidSpec("config.settings.image is missing")
        }
        return ModuleSpec(name: name, type: type ?? "process", image: image,
                          createOptions: config.settings?.createOptions ?? config.createOptions,
                          env: config.env, imagePullPolicy: imagePullPolicy, auth: config.auth)
    }
}

/// `GET /identities` entries, edgelet's `Identity`.
struct IdentityJSON: Codable {
    var moduleId: String
    var managedBy: String
    var generationId: String
    var authType: String

    init(_ m: ModuleIdentity) {
        moduleId = m.moduleId
        managedBy = m.managedBy ?? "iotEdge"
        generationId = m.generationId
        authType = "Sas"
    }
}

struct IdentitySpecJSON: Decodable {
    var moduleId: String?
    var managedBy: String?
}
