import EdgeAgent
import EdgeModule
import Foundation
import IoTClient
import Logging
import Twin

/// edgeAgent's work: keep the runtime equal to the deployment and tell the hub how it went.
/// The last good deployment is kept on disk, so modules keep running (and are restarted by
/// policy) while the hub is out of reach.
actor Agent {
    private let runtime: RuntimeClient
    private let logger: Logger
    private let storage: URL
    private var deployment: AgentDeployment?
    private var desiredVersion = 0
    private var status: (code: Int, description: String) = (200, "")
    private var deployedConfig: [String: String]
    private var backoff: [String: RestartBackoff] = [:]
    private var lastRestart: [String: Date] = [:]
    private var reportedModules: Set<String> = []
    /// Modules the runtime could not start (a missing executable, say): when, and why. They are
    /// retried on the same back-off as a module that exits.
    private var startFailures: [String: (time: Date, reason: String)] = [:]
    private var lastReport: String?
    /// What the daemon was last told of each waiting module (for `iotedge list`).
    private var annotated: [String: String] = [:]

    init(runtime: RuntimeClient, logger: Logger, storage: URL) {
        self.runtime = runtime
        self.logger = logger
        self.storage = storage
        deployedConfig = (try? JSONDecoder().decode([String: String].self, from: Data(contentsOf: storage.appendingPathComponent("deployed.json")))) ?? [:]
        if let cached = try? JSONValue(parsing: Data(contentsOf: storage.appendingPathComponent("deployment.json"))),
           let d = try? AgentDeployment(desired: cached) {
            deployment = d
            desiredVersion = d.version
            logger.info("Using the last good deployment (version \(d.version)) until the hub answers")
        }
    }

    /// A new desired document from the twin.
    func apply(desired: JSONValue) {
        let version = Int(desired["$version"]?.numberValue ?? 0)
        desiredVersion = version
        do {
            let d = try AgentDeployment(desired: desired)
            deployment = d
            status = (200, "")
            try? desired.jsonData.write(to: storage.appendingPathComponent("deployment.json"), options: .atomic)
            logger.info("Deployment version \(version) received: \(d.modules.count) module(s)")
        } catch let failure as AgentDeployment.Failure {
            status = (failure.code, failure.description)
            logger.error("Deployment version \(version) cannot be applied: \(failure.description); keeping the last good one")
        } catch {
            status = (500, "\(error)")
        }
    }

    /// One pass: plan, act, and return the reported properties if they changed.
    func reconcile() async -> JSONValue? {
        guard let deployment else { return reportIfChanged(facts: [:]) }
        let now = Date()
        let current: [RuntimeModule]
        do { current = try await runtime.list() } catch {
            logger.error("Cannot list modules through the management API: \(error)")
            return nil
        }
        for module in current where module.state == .running {
            if let start = module.startTime { backoff[module.name]?.noteRunning(since: start, now: now) }
        }
        let plan = ReconcilePlan(deployment: deployment, runtime: current, deployedConfig: deployedConfig, backoff: backoff, now: now)
        for command in plan.commands {
            if case .start(let name) = command, let failure = startFailures[name],
               now < (backoff[name] ?? RestartBackoff()).nextAttempt(after: failure.time) { continue }
            await perform(command, now: now)
        }
        if !plan.commands.isEmpty {
            try? JSONEncoder().encode(deployedConfig).write(to: storage.appendingPathComponent("deployed.json"), options: .atomic)
        }
        let refreshed = (try? await runtime.list()) ?? current
        var facts: [String: AgentReport.ModuleFacts] = [:]
        for m in refreshed {
            let planned = plan.statuses[m.name]
            var runtimeStatus = m.state == .running ? "running" : (planned?.status ?? m.state.rawValue)
            var description = m.state == .running ? "running" : planned?.description ?? ""
            if m.state != .running, let failure = startFailures[m.name] {
                let counter = backoff[m.name] ?? RestartBackoff()
                runtimeStatus = counter.isExhausted ? "failed" : "backoff"
                description = "could not start: \(failure.reason)"
            }
            facts[m.name] = .init(runtimeStatus: runtimeStatus, description: description,
                                  exitCode: m.exitCode, lastStartTime: m.startTime, lastExitTime: m.exitTime,
                                  restartCount: backoff[m.name]?.restartCount ?? 0, lastRestartTime: lastRestart[m.name])
        }
        await annotate(refreshed, facts: facts)
        return reportIfChanged(facts: facts)
    }

    /// Tells the daemon which stopped modules wait for a restart and until when, so that
    /// `iotedge list` says "Backoff 20 seconds" rather than just "Failed".
    private func annotate(_ modules: [RuntimeModule], facts: [String: AgentReport.ModuleFacts]) async {
        for m in modules {
            guard m.state != .running, let status = facts[m.name]?.runtimeStatus, status == "backoff" || status == "failed" else {
                annotated[m.name] = nil
                continue
            }
            var next: Date?
            if status == "backoff", let since = m.exitTime ?? startFailures[m.name]?.time {
                next = (backoff[m.name] ?? RestartBackoff()).nextAttempt(after: since)
            }
            let key = "\(status) \(next?.timeIntervalSince1970 ?? 0)"
            guard annotated[m.name] != key else { continue }
            do {
                try await runtime.annotate(m.name, status: status, nextStart: next)
                annotated[m.name] = key
            } catch {
                logger.debug("Could not tell the daemon that \(m.name) is in \(status): \(error)")
            }
        }
    }

    private func perform(_ command: RuntimeCommand, now: Date) async {
        do {
            switch command {
            case .create(let spec):
                logger.info("Creating module \(spec.name)")
                try await runtime.create(spec, update: false, credential: deployment?.credential(forImage: spec.image))
                deployedConfig[spec.name] = spec.configHash
            case .update(let spec):
                logger.info("Updating module \(spec.name)")
                try await runtime.create(spec, update: true, credential: deployment?.credential(forImage: spec.image))
                deployedConfig[spec.name] = spec.configHash
                backoff[spec.name] = nil
            case .start(let name):
                logger.info("Starting module \(name)")
                do {
                    try await runtime.action("start", name)
                    startFailures[name] = nil
                } catch {
                    var counter = backoff[name] ?? RestartBackoff()
                    if startFailures[name] != nil { counter.recordRestart(at: now) }
                    backoff[name] = counter
                    startFailures[name] = (now, "\(error)")
                    throw error
                }
            case .restart(let name):
                var counter = backoff[name] ?? RestartBackoff()
                counter.recordRestart(at: now)
                backoff[name] = counter
                lastRestart[name] = now
                logger.warning("Restarting module \(name) (restart \(counter.restartCount))")
                try await runtime.action("start", name)
            case .stop(let name):
                logger.info("Stopping module \(name)")
                try await runtime.action("stop", name)
            case .remove(let name):
                logger.info("Removing module \(name)")
                try await runtime.remove(name)
                deployedConfig[name] = nil
                backoff[name] = nil
            }
        } catch {
            logger.error("Module command \(command) failed: \(error)")
        }
    }

    private func reportIfChanged(facts: [String: AgentReport.ModuleFacts]) -> JSONValue? {
        var arch = utsname()
        uname(&arch)
        let machine = withUnsafeBytes(of: &arch.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let document = AgentReport.document(deployment: deployment, desiredVersion: desiredVersion, status: status, facts: facts,
                                            previousModules: reportedModules.subtracting(deployment?.modules.keys.map { $0 } ?? []),
                                            architecture: machine)
        let text = document.jsonText
        guard text != lastReport else { return nil }
        lastReport = text
        reportedModules = Set(deployment?.modules.keys.map { $0 } ?? [])
        return document
    }

    func forgetReport() { lastReport = nil }

    func moduleNames() async throws -> [String] { try await runtime.list().map(\.name) }

    func restartModule(_ name: String) async throws {
        try await runtime.action("restart", name)
    }
}
