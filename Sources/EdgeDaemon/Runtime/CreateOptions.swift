import Twin
/// The parts of Docker's `createOptions` a process can honour, so that a deployment written
/// for containers reads naturally: `Entrypoint` and `Cmd` (the program's arguments), `Env`
/// (`"KEY=VALUE"` strings) and `WorkingDir`. Everything else (`HostConfig`, port bindings,
/// mounts) has no meaning for a process and is listed in `ignored`.
public struct CreateOptions: Sendable, Equatable {
    public var entrypoint: [String]?
    public var cmd: [String]?
    public var env: [EnvironmentVariable] = []
    public var workingDir: String?
    public var ignored: [String] = []

    public init(entrypoint: [String]? = nil, cmd: [String]? = nil, env: [EnvironmentVariable] = [], workingDir: String? = nil) {
        self.entrypoint = entrypoint
        self.cmd = cmd
        self.env = env
        self.workingDir = workingDir
    }

    /// Reads the options; a string is parsed as JSON first (the deployment manifest carries
    /// `createOptions` as a JSON *string*, and long ones split over `createOptions01`…).
    public init(_ value: JSONValue?) throws(RuntimeError) {
        guard var value else { return }
        if case .string(let text) = value {
            if text.trimmingSpaces().isEmpty { return }
            guard let parsed = try? JSONText.decode(text) else {
                throw .invalidSpec("createOptions is not JSON: \(text.prefix(80))")
            }
            value = parsed
        }
        guard case .object(let o) = value else { throw .invalidSpec("createOptions must be a JSON object") }
        for (key, v) in o {
            switch key {
            case "Cmd": cmd = try Self.words(v, key)
            case "Entrypoint": entrypoint = try Self.words(v, key)
            case "WorkingDir":
                guard let s = v.stringValue else { throw .invalidSpec("createOptions.WorkingDir must be a string") }
                workingDir = s.isEmpty ? nil : s
            case "Env":
                guard let list = v.arrayValue else { throw .invalidSpec("createOptions.Env must be a list of \"KEY=VALUE\" strings") }
                for item in list {
                    guard let s = item.stringValue else { throw .invalidSpec("createOptions.Env must be a list of \"KEY=VALUE\" strings") }
                    if let eq = s.firstIndex(of: "=") {
                        env.append(EnvironmentVariable(key: String(s[..<eq]), value: String(s[s.index(after: eq)...])))
                    } else {
                        env.append(EnvironmentVariable(key: s, value: ""))
                    }
                }
            default:
                ignored.append(key)
            }
        }
        ignored.sort()
    }

    /// A list of strings, or one string split at spaces (Docker's shell form, without a shell).
    private static func words(_ v: JSONValue, _ key: String) throws(RuntimeError) -> [String]? {
        switch v {
        case .null: return nil
        case .string(let s): return s.split(separator: " ").map(String.init)
        case .array(let a):
            var out: [String] = []
            for item in a {
                guard let s = item.stringValue else { throw .invalidSpec("createOptions.\(key) must be a list of strings") }
                out.append(s)
            }
            return out
        default: throw .invalidSpec("createOptions.\(key) must be a list of strings")
        }
    }
}
