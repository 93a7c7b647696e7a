import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The edge daemon, iotedged's body: provisions the module identities of edgeAgent and edgeHub
/// on the hub, makes the edge CA, serves the management and workload APIs on their unix
/// sockets, starts edgeAgent from `[agent]` and starts it again when it exits. On graceful
/// shutdown (SIGTERM, SIGINT) it stops every module (SIGTERM to each process group, SIGKILL
/// after the grace period) and removes its sockets. Runs as a `Service` in a `ServiceGroup`.
public final class EdgeDaemon: Service, @unchecked Sendable {
    public struct Options: Sendable {
        /// Whether to start edgeAgent (tests of the APIs alone leave it out).
        public var startAgent = true
        /// How often the watchdog looks at edgeAgent.
        public var watchdogInterval: Double = 1
        /// The longest wait between restarts of an edgeAgent that keeps exiting.
        public var maxAgentBackoff: Double = 60
        /// How long identity provisioning is retried in the background before giving up.
        public var provisioningRetry: Double = 30
        /// The programs the daemon's own executable also is, by name (`edge-agent`, `edge-hub`):
        /// modules whose image names one run that executable under the name (see
        /// `ExecutableResolver.ownPrograms`). Empty by default: a test process is no iotedged.
        public var ownPrograms: Set<String> = []
        public init() {}
    }

    public let config: EdgeConfig
    public let runtime: ProcessRuntime
    public let identities: IdentityStore
    private let options: Options
    private let logger: Logger
    private var management: UnixHTTPServer?
    private var workload: UnixHTTPServer?
    public private(set) var edgeCA: EdgeCA?
    private var provisioningTask: Task<Void, Never>?
    /// The config as last applied (`config apply` may change `[agent]` without a restart).
    let applied: NIOLockedValueBox<EdgeConfig>
    let logLevel: LogLevelSetting
    let startTime = RFC3339.now()
    /// When the config file was last read and put into effect: the start, or a `config apply`
    /// that needed no restart. `iotedge check`'s config-up-to-date compares the file with it.
    let configAppliedTime = NIOLockedValueBox(RFC3339.now())
    /// Set by `system restart`, `reprovision` and `config apply`: iotedged starts itself again
    /// once `run` returns.
    public var restartRequested: Bool { restartFlag.withLockedValue { $0 } }
    let restartFlag = NIOLockedValueBox(false)
    let stopRequests = AsyncStream<Void>.makeStream()
    /// The last failure to provision `$edgeAgent` and `$edgeHub`, for `system status`.
    let provisioningError = NIOLockedValueBox<String?>(nil)

    public init(config: EdgeConfig, identityProvider: IdentityProvider, runtime: ProcessRuntime? = nil,
                options: Options = Options(), logLevel: LogLevelSetting = LogLevelSetting(.info),
                logger: Logger = Logger(label: "iotedged")) {
        self.config = config
        self.applied = NIOLockedValueBox(config)
        self.logLevel = logLevel
        self.options = options
        self.logger = logger
        self.runtime = runtime ?? ProcessRuntime(configuration: .init(logDirectory: config.logDirectory,
                                                                      resolver: .standard(ownPrograms: options.ownPrograms),
                                                                      imageFetcher: ImageFetcher(homeDirectory: config.homeDirectory)),
                                                 logger: Logger(label: "iotedged.runtime"))
        self.identities = IdentityStore(provider: identityProvider,
                                        cachePath: FileIO.join(config.homeDirectory, "identities.json"),
                                        logger: Logger(label: "iotedged.identity"))
    }

    public func run() async throws {
        try await start()
        await cancelWhenGracefulShutdown {
            // Until SIGTERM, or `system stop`/`restart` through the management API.
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.watchdog() }
                group.addTask { for await _ in self.stopRequests.stream { return } }
                await group.next()
                group.cancelAll()
            }
        }
        await shutdown()
    }

    /// Everything up to edgeAgent running; returns when the sockets listen.
    public func start() async throws {
        logger.info("Starting Outpost IoT Edge security daemon (iotedged)")
        logger.info("Version - \(EdgeDaemonVersion.text)")
        logger.info("Using config file: \(config.file)")
        for note in config.notes { logger.info("Config: \(note)") }
        try FileIO.makeDirectories(config.homeDirectory, mode: 0o755)
        try FileIO.makeDirectories(config.logDirectory, mode: 0o755)


        do {
            edgeCA = try EdgeCA.loadOrCreate(directory: FileIO.join(config.homeDirectory, "certs"))
            if let ca = edgeCA {
                logger.info("Edge CA: \(ca.certificate.subject), valid until \(RFC3339.format(ca.certificate.notValidAfter.timeIntervalSince1970, fractionDigits: 0))")
            }
        } catch {
            logger.error("Could not create the edge CA in \(FileIO.join(config.homeDirectory, "certs")): \(error). edgeHub will not get a server certificate.")
        }

        let environment = ModuleEnvironment(config: config)
        let identities = self.identities
        let logger = self.logger
        await runtime.setEnvironmentProvider { spec in
            var identity = await identities.identity(for: spec.name)
            if identity == nil {
                do { identity = try await identities.ensure(ModuleIdentity.moduleID(forRuntimeName: spec.name)) } catch {
                    logger.warning("Module \(spec.name) starts without a module identity: \(error)")
                }
            }
            return environment.variables(for: spec.name, identity: identity)
        }

        let bundles = SupportBundleService(config: { [applied] in applied.withLockedValue { $0 } }, runtime: runtime, system: self)
        let mgmtAPI = ManagementAPI(runtime: runtime, identities: identities, systemInfo: .current(),
                                    system: self, supportBundle: bundles, logger: Logger(label: "iotedged.mgmt"))
        let workloadAPI = WorkloadAPI(runtime: runtime, identities: identities, edgeCA: edgeCA,
                                      trustBundlePEM: config.trustBundlePEM, logger: Logger(label: "iotedged.workload"))
        let mgmt = UnixHTTPServer(socketPath: config.listen.managementSocketPath, handler: mgmtAPI)
        let work = UnixHTTPServer(socketPath: config.listen.workloadSocketPath, handler: workloadAPI)
        do {
            try await mgmt.start(mode: 0o660)
            try await work.start(mode: 0o666)
        } catch {
            await mgmt.stop()
            throw DaemonError("cannot listen on \(config.listen.managementSocketPath) and \(config.listen.workloadSocketPath): \(error). Is another iotedged running, and is \(FileIO.dirname(of: config.listen.managementSocketPath)) writable?")
        }
        management = mgmt
        workload = work
        logger.info("Listening on \(config.listen.managementURI) (management) and \(config.listen.workloadURI) (workload)")

        let p = config.provisioning
        logger.info("Provisioning: manual, device \(p.deviceID) on hub \(p.iothubHostname) (key from \(p.keySource)); host name \(config.hostname)")
        let ready = await provisionSystemModules()
        if !ready {
            provisioningTask = Task { [weak self] in await self?.retryProvisioning() }
        }

        if options.startAgent {
            do {
                try await runtime.update(Self.agentSpec(config.agent), start: false)
                try await runtime.start(config.agent.name)
            } catch {
                logger.error("Could not start \(config.agent.name): \(error). Check [agent.config] image in \(config.file); the watchdog tries again.")
            }
        }
    }

    static func agentSpec(_ a: EdgeConfig.Agent) -> ModuleSpec {
        ModuleSpec(name: a.name, type: a.type, image: a.image, createOptions: a.createOptions,
                   env: a.env, imagePullPolicy: a.imagePullPolicy)
    }

    /// Ensures `$edgeAgent` and `$edgeHub` exist on the hub and their keys are known.
    @discardableResult
    func provisionSystemModules() async -> Bool {
        for id in ["$edgeAgent", "$edgeHub"] {
            do {
                let m = try await identities.ensure(id)
                logger.info("Provisioned module identity \(id) (generation \(m.generationId))")
            } catch {
                logger.error("Could not provision module identity \(id): \(error)")
                provisioningError.withLockedValue { $0 = "\(id): \(error)" }
                return false
            }
        }
        provisioningError.withLockedValue { $0 = nil }
        return true
    }

    private func retryProvisioning() async {
        var wait = 5.0
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: UInt64(wait * 1e9))
            if Task.isCancelled { return }
            if await provisionSystemModules() { return }
            wait = min(wait * 2, options.provisioningRetry)
        }
    }

    /// Restarts edgeAgent whenever it is not running and was not stopped on request, waiting
    /// 1, 2, 4 … up to `maxAgentBackoff` seconds between tries; a run of a minute resets it.
    private func watchdog() async {
        guard options.startAgent else {
            while !Task.isCancelled { try? await Task.sleep(nanoseconds: 3_600_000_000_000) }
            return
        }
        let name = config.agent.name
        var failures = 0
        var nextTry = 0.0
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: UInt64(options.watchdogInterval * 1e9))
            if Task.isCancelled { return }
            guard let details = try? await runtime.module(name) else { continue }
            let state = details.state
            let now = RFC3339.now()
            if state.status == .running {
                if let start = state.startTime, now - start > 60 { failures = 0 }
                continue
            }
            if state.stoppedOnRequest { continue }
            if nextTry == 0 {
                let wait = min(options.maxAgentBackoff, failures == 0 ? 0 : Double(1 << min(failures - 1, 10)))
                nextTry = now + wait
                logger.warning("\(name) is not running (\(state.description)); starting it again\(wait > 0 ? " in \(Int(wait)) s" : "")")
            }
            guard now >= nextTry else { continue }
            nextTry = 0
            failures += 1
            do { try await runtime.start(name) } catch {
                logger.error("Could not start \(name): \(error)")
            }
        }
    }

    /// Stops every module, then the APIs.
    public func shutdown() async {
        logger.info("Stopping: every module gets SIGTERM, then SIGKILL after \(Int(runtime.configuration.stopTimeout)) s")
        provisioningTask?.cancel()
        await runtime.stopAll()
        await management?.stop()
        await workload?.stop()
        management = nil
        workload = nil
        logger.info("iotedged stopped")
    }
}

public struct DaemonError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
