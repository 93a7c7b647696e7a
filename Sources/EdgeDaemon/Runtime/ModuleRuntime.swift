import Twin
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What runs modules: edgelet's `ModuleRuntime` trait as a protocol with async verbs. The
/// default implementation is `ProcessRuntime` (a module is a process); a container runtime
/// can come later behind the same verbs. The management API and the daemon use only these.
public protocol ModuleRuntime: Sendable {
    func list() async -> [ModuleDetails]
    func module(_ name: String) async throws(RuntimeError) -> ModuleDetails
    /// Adds a module in the stopped state.
    func create(_ spec: ModuleSpec) async throws(RuntimeError)
    /// Replaces a module's spec (stopping it first if it runs), then starts it if asked.
    func update(_ spec: ModuleSpec, start: Bool) async throws(RuntimeError)
    func start(_ name: String) async throws(RuntimeError)
    /// SIGTERM to the module's process group, SIGKILL after `timeout` seconds.
    func stop(_ name: String, timeout: Double?) async throws(RuntimeError)
    func restart(_ name: String) async throws(RuntimeError)
    func remove(_ name: String) async throws(RuntimeError)
    /// The module's log lines, oldest first; with `follow`, new lines until the task is cancelled.
    func logs(_ name: String, options: LogOptions) async throws(RuntimeError) -> LogLines
    /// The pid of the module's main process as the runtime started it, while it runs.
    func mainProcessID(_ name: String) async -> pid_t?
    /// edgeAgent's view of a module it keeps stopped (`backoff` until `nextStartTime`, `failed`).
    func annotate(_ name: String, agentStatus: String?, nextStartTime: Double?) async throws(RuntimeError)
    /// Stops every module, in parallel, each with the usual grace period.
    func stopAll() async
}

/// A module as the management API creates it: `{name, type, config: {settings: {image,
/// createOptions}, env: [{key, value}]}, imagePullPolicy}`.
public struct ModuleSpec: Sendable, Equatable {
    public var name: String
    public var type: String
    /// An absolute path, a name of an executable shipped next to iotedged, or a container
    /// image reference that `ExecutableResolver` maps to one.
    public var image: String
    /// Docker-style options: `Cmd` (arguments), `Entrypoint`, `Env` ("K=V"), `WorkingDir`.
    public var createOptions: JSONValue?
    public var env: [EnvironmentVariable]
    public var imagePullPolicy: String?
    /// Credentials for an `http(s)://` image (edgelet's `config.auth`).
    public var auth: RegistryAuth?

    public init(name: String, type: String = "process", image: String, createOptions: JSONValue? = nil,
                env: [EnvironmentVariable] = [], imagePullPolicy: String? = nil, auth: RegistryAuth? = nil) {
        self.auth = auth
        self.name = name
        self.type = type
        self.image = image
        self.createOptions = createOptions
        self.env = env
        self.imagePullPolicy = imagePullPolicy
    }

    /// Module names become file names (logs) and URL segments: letters, digits and `-_.:@+`
    /// as Azure allows, at most 64, not `.` or `..`.
    public static func validateName(_ name: String) -> String? {
        if name.isEmpty { return "the module name is empty" }
        if name.count > 64 { return "the module name \"\(name)\" is longer than 64 characters" }
        if name == "." || name == ".." || name.hasPrefix("$") { return "\"\(name)\" is not a valid module name" }
        let allowed: Set<Character> = ["-", "_", ".", ":", "@", "+", "%", "#", "*", "?", "!", "(", ")", ",", "=", ";", "'"]
        if let bad = name.first(where: { !($0.isASCII && ($0.isLetter || $0.isNumber)) && !allowed.contains($0) }) {
            return "the module name \"\(name)\" contains \"\(bad)\""
        }
        return nil
    }
}

/// `running|stopped|failed|dead|unknown`, edgelet's words (`ModuleStatus`).
public enum RuntimeStatus: String, Codable, Sendable {
    case running, stopped, failed, dead, unknown
}

/// A module's state as the runtime last saw it.
public struct ModuleState: Sendable, Equatable {
    public var status: RuntimeStatus
    public var description: String
    /// Seconds since 1970.
    public var startTime: Double?
    public var exitTime: Double?
    /// The exit code; 128 + signal number for a process ended by a signal (Docker's convention).
    public var exitCode: Int32?
    public var pid: pid_t?
    /// How often the runtime started it (for `restartCount`-like views).
    public var startCount: Int
    /// True when the last stop was asked for (stop, restart, update, remove), not an exit of
    /// the module's own: the daemon's watchdog leaves such an edgeAgent stopped.
    public var stoppedOnRequest: Bool = false
    /// What edgeAgent said of a module that is not running (`backoff`, `failed`), and when it
    /// means to start it again; cleared when the module starts.
    public var agentStatus: String?
    public var nextStartTime: Double?

    public init(status: RuntimeStatus = .stopped, description: String = "created", startTime: Double? = nil,
                exitTime: Double? = nil, exitCode: Int32? = nil, pid: pid_t? = nil, startCount: Int = 0) {
        self.status = status
        self.description = description
        self.startTime = startTime
        self.exitTime = exitTime
        self.exitCode = exitCode
        self.pid = pid
        self.startCount = startCount
    }
}

extension ModuleState {
    /// The status word `iotedge list` shows: the runtime's, or edgeAgent's `backoff`/`failed`
    /// for a module it is waiting to restart or gave up on.
    public var listStatus: String {
        if status != .running, let agentStatus { return agentStatus }
        return status.rawValue
    }

    /// `iotedge list`'s description, as `docker ps` words it: "Up 3 minutes", "Backoff 20
    /// seconds", "Failed (1) 2 minutes ago", "Stopped".
    public func summary(now: Double) -> String {
        func ago(_ t: Double?) -> String { t.map { " " + EdgeDaemon.duration(now - $0) + " ago" } ?? "" }
        switch status {
        case .running:
            return "Up " + EdgeDaemon.duration(now - (startTime ?? now))
        case .stopped, .failed, .dead, .unknown:
            if agentStatus == "backoff", let next = nextStartTime {
                return "Backoff \(EdgeDaemon.duration(next - now))" + (exitCode.map { ", exited (\($0))" } ?? "")
            }
            if agentStatus == "failed" { return "Failed" + (exitCode.map { " (\($0))" } ?? "") + ago(exitTime) + ", restarts exhausted" }
            guard let code = exitCode else {
                return description.hasPrefix("cannot start") ? description : (status == .stopped ? "Stopped" : status.rawValue.capitalized)
            }
            if stoppedOnRequest { return "Stopped" + ago(exitTime) }
            return (code == 0 ? "Exited (0)" : "Failed (\(code))") + ago(exitTime)
        }
    }
}

public struct ModuleDetails: Sendable, Equatable {
    public var spec: ModuleSpec
    public var state: ModuleState
    public init(spec: ModuleSpec, state: ModuleState) { self.spec = spec; self.state = state }
}

/// Which lines `logs` gives: Docker's `since`, `until`, `tail` and `follow`, plus
/// `timestamps` to keep the RFC 3339 time the daemon wrote before each line.
public struct LogOptions: Sendable, Equatable {
    public var since: Double?
    public var until: Double?
    /// The last N lines (after since/until); nil for all.
    public var tail: Int?
    public var follow: Bool
    public var timestamps: Bool

    public init(since: Double? = nil, until: Double? = nil, tail: Int? = nil, follow: Bool = false, timestamps: Bool = false) {
        self.since = since
        self.until = until
        self.tail = tail
        self.follow = follow
        self.timestamps = timestamps
    }
}

/// Runtime failures, each with the HTTP status the management API answers with.
public enum RuntimeError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(String)
    case alreadyExists(String)
    case invalidSpec(String)
    case cannotStart(String, String)
    case failed(String)

    public var description: String {
        switch self {
        case .notFound(let name): "No such module: \(name)"
        case .alreadyExists(let name): "Module \(name) already exists"
        case .invalidSpec(let why): "Invalid module spec: \(why)"
        case .cannotStart(let name, let why): "Could not start module \(name): \(why)"
        case .failed(let why): why
        }
    }

    public var httpStatus: Int {
        switch self {
        case .notFound: 404
        case .alreadyExists: 409
        case .invalidSpec: 400
        case .cannotStart, .failed: 500
        }
    }
}
