#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// The default `ModuleRuntime`: a module is a process. It is started in a process group of
/// its own with its environment; its stdout and stderr go, line by line and stamped with the
/// time, into `<logs>/<module>.log` (rotated); its exit code and times are recorded; stopping
/// it sends SIGTERM to the whole group, then SIGKILL after the grace period. When the main
/// process ends, whatever it left running in its group is killed, as a container's would be.
public actor ProcessRuntime: ModuleRuntime {
    public struct Configuration: Sendable {
        public var logDirectory: String
        public var logMaxBytes: Int
        public var logMaxFiles: Int
        /// Seconds between SIGTERM and SIGKILL.
        public var stopTimeout: Double
        public var resolver: ExecutableResolver
        /// Variables of the daemon's own environment passed on to every module (PATH, HOME …).
        public var inheritedVariables: [String]
        /// Downloads `http(s)://` images; without it such images are refused.
        public var imageFetcher: ImageFetcher?

        public init(logDirectory: String, logMaxBytes: Int = 10 << 20, logMaxFiles: Int = 3, stopTimeout: Double = 10,
                    resolver: ExecutableResolver = .standard(), imageFetcher: ImageFetcher? = nil,
                    inheritedVariables: [String] = ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR",
                                                    "LD_LIBRARY_PATH", "PYTHONPATH", "VIRTUAL_ENV", "SSL_CERT_FILE", "SSL_CERT_DIR"]) {
            self.logDirectory = logDirectory
            self.logMaxBytes = logMaxBytes
            self.logMaxFiles = logMaxFiles
            self.stopTimeout = stopTimeout
            self.resolver = resolver
            self.imageFetcher = imageFetcher
            self.inheritedVariables = inheritedVariables
        }
    }

    /// Gives the variables the daemon adds to a module's environment (the IOTEDGE_* set);
    /// the module's own `Env` and `env` override them.
    public typealias EnvironmentProvider = @Sendable (ModuleSpec) async -> [EnvironmentVariable]
    /// Told of every exit of a module's main process, with the state after it.
    public typealias ExitHandler = @Sendable (String, ModuleState) async -> Void

    private final class Module {
        var spec: ModuleSpec
        var state = ModuleState()
        var log: RotatingLogFile
        var stopRequested = false
        /// `KEY=VALUE` as the running (or last) process got them, for `iotedge exec … printenv`.
        var environment: [String] = []
        /// Bumped at every start, so that a late exit report of an earlier run is ignored.
        var run = 0
        init(spec: ModuleSpec, log: RotatingLogFile) { self.spec = spec; self.log = log }
    }

    public let configuration: Configuration
    private var modules: [String: Module] = [:]
    private let logger: Logger
    private var environmentProvider: EnvironmentProvider?
    private var exitHandler: ExitHandler?

    public init(configuration: Configuration, logger: Logger = Logger(label: "iotedged.runtime")) {
        self.configuration = configuration
        self.logger = logger
    }

    /// A runtime that goes away takes its modules with it: nothing it started outlives it
    /// unwatched (the daemon stops them gracefully before this; a test that fails early relies on it).
    deinit {
        for m in modules.values where m.state.status == .running {
            if let pid = m.state.pid { killpg(pid, SIGKILL) }
        }
    }

    public func setEnvironmentProvider(_ provider: EnvironmentProvider?) { environmentProvider = provider }
    public func setExitHandler(_ handler: ExitHandler?) { exitHandler = handler }

    /// The log file of a module (the newest of its rotated files).
    public nonisolated func logPath(of name: String) -> String {
        FileIO.join(configuration.logDirectory, Self.fileName(name) + ".log")
    }

    /// Module names as file names: anything but letters, digits, `-`, `_` and `.` becomes `_`.
    static func fileName(_ name: String) -> String {
        String(name.map { c in c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "_" || c == ".") ? c : "_" })
    }

    // MARK: ModuleRuntime

    public func list() async -> [ModuleDetails] {
        modules.keys.sorted().map { ModuleDetails(spec: modules[$0]!.spec, state: modules[$0]!.state) }
    }

    public func module(_ name: String) async throws(RuntimeError) -> ModuleDetails {
        guard let m = modules[name] else { throw .notFound(name) }
        return ModuleDetails(spec: m.spec, state: m.state)
    }

    public func create(_ spec: ModuleSpec) async throws(RuntimeError) {
        if let why = ModuleSpec.validateName(spec.name) { throw .invalidSpec(why) }
        guard modules[spec.name] == nil else { throw .alreadyExists(spec.name) }
        _ = try CreateOptions(spec.createOptions)
        let log = RotatingLogFile(path: logPath(of: spec.name), maxBytes: configuration.logMaxBytes, maxFiles: configuration.logMaxFiles)
        modules[spec.name] = Module(spec: spec, log: log)
        logger.info("Created module \(spec.name) (image \(spec.image))")
    }

    public func update(_ spec: ModuleSpec, start: Bool) async throws(RuntimeError) {
        guard let m = modules[spec.name] else {
            try await create(spec)
            if start { try await self.start(spec.name) }
            return
        }
        _ = try CreateOptions(spec.createOptions)
        if m.state.status == .running { try await stop(spec.name, timeout: nil) }
        m.spec = spec
        m.state.description = "updated"
        logger.info("Updated module \(spec.name) (image \(spec.image))")
        if start { try await self.start(spec.name) }
    }

    public func start(_ name: String) async throws(RuntimeError) {
        guard let m = modules[name] else { throw .notFound(name) }
        if m.state.status == .running { return }
        let command: ProcessLauncher.Request
        do {
            command = try await makeCommand(m.spec)
        } catch {
            m.state.status = .failed
            m.state.description = error.description
            m.log.write(line: "iotedged: cannot start \(name): \(error.description)")
            throw .cannotStart(name, error.description)
        }
        var fds: [Int32] = [0, 0]
        // pipe2 is not imported without _GNU_SOURCE; close-on-exec is set right after, and
        // every spawn closes descriptors above 2 in the child anyway.
        guard pipe(&fds) == 0 else {
            throw .cannotStart(name, "pipe: \(String(cString: strerror(errno)))")
        }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        let (readFD, writeFD) = (fds[0], fds[1])
        // ETXTBSY: the executable was just written, and a process forked meanwhile (by any
        // thread) still holds it open for writing until it execs. It passes in milliseconds.
        var attempt = ProcessLauncher.spawn(command, outputFD: writeFD)
        for _ in 0..<10 {
            guard case .failure(let e) = attempt, e.errno == ETXTBSY else { break }
            try? await Task.sleep(nanoseconds: 50_000_000)
            attempt = ProcessLauncher.spawn(command, outputFD: writeFD)
        }
        let pid: pid_t
        switch attempt {
        case .success(let p): pid = p
        case .failure(let e):
            close(readFD)
            close(writeFD)
            m.state.status = .failed
            m.state.description = "cannot start: \(e.description)"
            m.state.exitCode = 127
            m.state.exitTime = RFC3339.now()
            m.log.write(line: "iotedged: cannot start \(name): \(e.description)")
            logger.error("Could not start module \(name): \(e.description)")
            throw .cannotStart(name, e.description)
        }
        close(writeFD)
        m.environment = command.environment
        m.run += 1
        m.stopRequested = false
        m.state.status = .running
        m.state.pid = pid
        m.state.startTime = RFC3339.now()
        m.state.startCount += 1
        m.state.stoppedOnRequest = false
        m.state.agentStatus = nil
        m.state.nextStartTime = nil
        m.state.description = "running"
        let run = m.run
        logger.info("Started module \(name) (pid \(pid), \(command.arguments.joined(separator: " ")))")
        ModuleWatcher.shared.captureOutput(fd: readFD, into: m.log)
        ModuleWatcher.shared.watchExit(pid: pid) { [weak self] status in
            Task { await self?.exited(name, run: run, pid: pid, status: status) }
        }
    }

    public func stop(_ name: String, timeout: Double?) async throws(RuntimeError) {
        guard let m = modules[name] else { throw .notFound(name) }
        m.stopRequested = true
        guard m.state.status == .running, let pid = m.state.pid else { return }
        let grace = timeout ?? configuration.stopTimeout
        logger.info("Stopping module \(name) (pid \(pid)): SIGTERM, SIGKILL after \(Int(grace)) s")
        killpg(pid, SIGTERM)
        let run = m.run
        if await !waitForExit(m, run: run, seconds: grace) {
            logger.warning("Module \(name) (pid \(pid)) did not stop within \(Int(grace)) s of SIGTERM; sending SIGKILL")
            killpg(pid, SIGKILL)
            _ = await waitForExit(m, run: run, seconds: 5)
        }
    }

    public func restart(_ name: String) async throws(RuntimeError) {
        guard modules[name] != nil else { throw .notFound(name) }
        try await stop(name, timeout: nil)
        try await start(name)
    }

    public func remove(_ name: String) async throws(RuntimeError) {
        guard let m = modules[name] else { throw .notFound(name) }
        try await stop(name, timeout: nil)
        m.log.close()
        modules[name] = nil
        logger.info("Removed module \(name)")
    }

    public func logs(_ name: String, options: LogOptions) async throws(RuntimeError) -> LogLines {
        guard modules[name] != nil || FileIO.exists(logPath(of: name)) else { throw .notFound(name) }
        return ModuleLogReader.lines(path: logPath(of: name), maxFiles: configuration.logMaxFiles, options: options)
    }

    /// The environment the module's process was started with, secrets redacted.
    public func environment(_ name: String) throws(RuntimeError) -> [EnvironmentVariable] {
        guard let m = modules[name] else { throw .notFound(name) }
        return m.environment.map { entry in
            let eq = entry.firstIndex(of: "=") ?? entry.endIndex
            let key = String(entry[..<eq]), value = eq < entry.endIndex ? String(entry[entry.index(after: eq)...]) : ""
            return EnvironmentVariable(key: key, value: SecretRedaction.isSecret(key: key, value: value) ? "<redacted>" : value)
        }
    }

    /// Records what edgeAgent says of a module it keeps stopped (backoff, failed).
    public func annotate(_ name: String, agentStatus: String?, nextStartTime: Double?) throws(RuntimeError) {
        guard let m = modules[name] else { throw .notFound(name) }
        guard m.state.status != .running else { return }
        m.state.agentStatus = agentStatus
        m.state.nextStartTime = nextStartTime
    }

    public func mainProcessID(_ name: String) async -> pid_t? {
        guard let m = modules[name], m.state.status == .running else { return nil }
        return m.state.pid
    }

    public func stopAll() async {
        let running = modules.filter { $0.value.state.status == .running }.map(\.key)
        await withTaskGroup(of: Void.self) { group in
            for name in running {
                group.addTask { try? await self.stop(name, timeout: nil) }
            }
        }
    }

    // MARK: internals

    private func waitForExit(_ m: Module, run: Int, seconds: Double) async -> Bool {
        let deadline = RFC3339.now() + seconds
        while m.run == run, m.state.status == .running {
            if RFC3339.now() >= deadline { return false }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return true
    }

    private func exited(_ name: String, run: Int, pid: pid_t, status: Int32?) async {
        // Whatever the main process left in its group goes with it.
        killpg(pid, SIGKILL)
        guard let m = modules[name], m.run == run else { return }
        let now = RFC3339.now()
        m.state.pid = nil
        m.state.exitTime = now
        guard let status else {
            m.state.status = .dead
            m.state.exitCode = nil
            m.state.description = "the process \(pid) ended but its exit status was taken by another waiter"
            logger.warning("Module \(name) (pid \(pid)) ended; its exit status could not be read")
            await exitHandler?(name, m.state)
            return
        }
        let signal = status & 0x7f
        let code: Int32 = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        m.state.exitCode = code
        m.state.stoppedOnRequest = m.stopRequested
        if m.stopRequested {
            m.state.status = .stopped
            m.state.description = signal == 0 ? "stopped (exit code \(code))" : "stopped (\(Self.signalName(signal)))"
        } else if signal == 0 {
            m.state.status = code == 0 ? .stopped : .failed
            m.state.description = "exited with code \(code)"
        } else {
            m.state.status = .failed
            m.state.description = "killed by \(Self.signalName(signal))"
        }
        m.log.write(line: "iotedged: module \(name) (pid \(pid)) \(m.state.description)", time: now)
        if m.stopRequested || code == 0 {
            logger.info("Module \(name) (pid \(pid)) \(m.state.description)")
        } else {
            logger.warning("Module \(name) (pid \(pid)) \(m.state.description)")
        }
        await exitHandler?(name, m.state)
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGTERM: "SIGTERM"
        case SIGKILL: "SIGKILL"
        case SIGINT: "SIGINT"
        case SIGSEGV: "SIGSEGV"
        case SIGABRT: "SIGABRT"
        case SIGHUP: "SIGHUP"
        case SIGPIPE: "SIGPIPE"
        case SIGBUS: "SIGBUS"
        case SIGILL: "SIGILL"
        case SIGQUIT: "SIGQUIT"
        default: "signal \(signal)"
        }
    }

    /// The executable, argv, environment and directory of a spec.
    func makeCommand(_ spec: ModuleSpec) async throws(RuntimeError) -> ProcessLauncher.Request {
        let options = try CreateOptions(spec.createOptions)
        if !options.ignored.isEmpty {
            logger.debug("Module \(spec.name): createOptions \(options.ignored.joined(separator: ", ")) have no meaning for a process; ignored")
        }
        let program = options.entrypoint?.first ?? spec.image
        let executable: ExecutableResolver.Program
        if ImageFetcher.isURL(program) {
            guard let fetcher = configuration.imageFetcher else { throw .invalidSpec("image \(program) is a URL, and this runtime fetches none") }
            executable = .init(path: try await fetcher.executable(for: program, auth: spec.auth, module: spec.name))
        } else {
            executable = try configuration.resolver.resolve(program).get()
        }
        let arguments = [executable.argv0] + Array((options.entrypoint ?? []).dropFirst()) + (options.cmd ?? [])
        var env: [(String, String)] = []
        func set(_ key: String, _ value: String) {
            if let i = env.firstIndex(where: { $0.0 == key }) { env[i].1 = value } else { env.append((key, value)) }
        }
        for key in configuration.inheritedVariables {
            if let v = getenv(key) { set(key, String(cString: v)) }
        }
        if let provider = environmentProvider {
            for v in await provider(spec) { set(v.key, v.value) }
        }
        for v in options.env { set(v.key, v.value) }
        for v in spec.env { set(v.key, v.value) }
        return ProcessLauncher.Request(executable: executable.path, arguments: arguments,
                                       environment: env.map { "\($0.0)=\($0.1)" }, workingDirectory: options.workingDir)
    }
}
