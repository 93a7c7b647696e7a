import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `iotedge system status|set-log-level|restart|stop|reprovision` and `config apply`, served by
/// the running daemon. Restarts and stops answer first and act a moment later, so that the CLI
/// gets its answer before the management socket closes.
extension EdgeDaemon: SystemControl {
    public func status() async -> SystemStatus {
        let config = applied.withLockedValue { $0 }
        var services: [SystemStatus.Service] = [
            .init(name: "iotedged", status: "Running",
                  detail: "pid \(getpid()), up \(Self.duration(RFC3339.now() - startTime)), version \(EdgeDaemonVersion.text)"),
            .init(name: "management API", status: "Running", detail: config.listen.managementURI),
            .init(name: "workload API", status: "Running", detail: config.listen.workloadURI),
        ]
        let p = config.provisioning
        let known = await identities.all().map(\.moduleId)
        if let failure = provisioningError.withLockedValue({ $0 }) {
            services.append(.init(name: "identity", status: known.isEmpty ? "Failed" : "Degraded",
                                  detail: "device \(p.deviceID) on \(p.iothubHostname): \(failure)"))
        } else if known.isEmpty {
            // The first attempt has neither succeeded nor failed yet.
            services.append(.init(name: "identity", status: "Provisioning",
                                  detail: "device \(p.deviceID) on \(p.iothubHostname): getting the module identities from the hub"))
        } else {
            services.append(.init(name: "identity", status: "Ready",
                                  detail: "device \(p.deviceID) on \(p.iothubHostname), \(known.count) module identit\(known.count == 1 ? "y" : "ies")"))
        }
        if let ca = edgeCA {
            let end = ca.certificate.notValidAfter.timeIntervalSince1970
            services.append(.init(name: "edge CA", status: end > RFC3339.now() ? "Ready" : "Expired",
                                  detail: "valid until \(RFC3339.format(end, fractionDigits: 0))"))
        } else {
            services.append(.init(name: "edge CA", status: "Failed", detail: "not created: see iotedge system logs"))
        }
        for module in await runtime.list() where [config.agent.name, "edgeHub"].contains(module.spec.name) {
            let s = module.state
            services.append(.init(name: module.spec.name, status: s.listStatus.capitalized, detail: s.summary(now: RFC3339.now())))
        }
        return SystemStatus(pid: getpid(), version: EdgeDaemonVersion.text, startTime: startTime,
                            configFile: config.file, homeDirectory: config.homeDirectory,
                            logLevel: EdgeLogLevel.name(logLevel.level), services: services,
                            configAppliedTime: configAppliedTime.withLockedValue { $0 })
    }

    public func setLogLevel(_ text: String) async throws {
        guard let level = EdgeLogLevel.parse(text) else {
            throw RuntimeError.invalidSpec("unknown log level \"\(text)\": use fatal, error, warning, info, debug or verbose")
        }
        let home = applied.withLockedValue { $0.homeDirectory }
        do { try LogLevelSetting.persist(level, homeDirectory: home) } catch {
            throw RuntimeError.failed("cannot keep the log level in \(LogLevelSetting.persistedPath(homeDirectory: home)): \(error)")
        }
        logLevel.level = level
        Logger(label: "iotedged").notice("Log level set to \(EdgeLogLevel.name(level))")
    }

    public func restart() async {
        Logger(label: "iotedged").notice("Restart requested through the management API")
        requestStop(restart: true)
    }

    public func stop() async {
        Logger(label: "iotedged").notice("Stop requested through the management API")
        requestStop(restart: false)
    }

    public func reprovision() async {
        let home = applied.withLockedValue { $0.homeDirectory }
        let logger = Logger(label: "iotedged")
        logger.notice("Reprovisioning requested: the cached module identities are forgotten and fetched again from the hub on restart")
        if unlink(FileIO.join(home, "identities.json")) != 0, errno != ENOENT {
            logger.warning("Could not remove \(FileIO.join(home, "identities.json")): \(String(cString: strerror(errno)))")
        }
        requestStop(restart: true)
    }

    public func reload() async throws -> ReloadResult {
        let current = applied.withLockedValue { $0 }
        let next: EdgeConfig
        do { next = try EdgeConfig.load(path: current.file) } catch {
            throw RuntimeError.invalidSpec("\(error)")
        }
        let daemonChanges = ConfigDifference.daemonChanges(current, next)
        var agentChanges = ConfigDifference.agentChanges(current, next)
        let logger = Logger(label: "iotedged")
        if !daemonChanges.isEmpty || current.agent.name != next.agent.name {
            logger.notice("config apply: \((daemonChanges + agentChanges).joined(separator: "; ")); restarting")
            requestStop(restart: true)
            return ReloadResult(action: .restartingDaemon, changes: daemonChanges + agentChanges)
        }
        guard !agentChanges.isEmpty else {
            configAppliedTime.withLockedValue { $0 = RFC3339.now() }
            return ReloadResult(action: .none, changes: [])
        }
        logger.notice("config apply: \(agentChanges.joined(separator: "; ")); restarting \(next.agent.name)")
        do {
            try await runtime.update(Self.agentSpec(next.agent), start: true)
        } catch {
            agentChanges.append("could not restart \(next.agent.name): \(error)")
            throw RuntimeError.failed(agentChanges.joined(separator: "; "))
        }
        applied.withLockedValue { $0 = next }
        configAppliedTime.withLockedValue { $0 = RFC3339.now() }
        return ReloadResult(action: .restartedAgent, changes: agentChanges)
    }

    private func requestStop(restart: Bool) {
        if restart { restartFlag.withLockedValue { $0 = true } }
        let continuation = stopRequests.continuation
        Task {
            try? await Task.sleep(nanoseconds: 200_000_000)
            continuation.yield()
        }
    }

    /// "5 minutes", "2 hours", as `docker ps` and `iotedge list` say it.
    public static func duration(_ seconds: Double) -> String {
        let s = Int(max(0, seconds))
        func plural(_ n: Int, _ unit: String) -> String { n == 1 ? "1 \(unit)" : "\(n) \(unit)s" }
        switch s {
        case ..<60: return plural(s, "second")
        case ..<3600: return plural(s / 60, "minute")
        case ..<172_800: return plural(s / 3600, "hour")
        default: return plural(s / 86_400, "day")
        }
    }
}
