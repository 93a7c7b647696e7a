import Foundation

/// A module as the runtime reports it.
public struct RuntimeModule: Sendable, Equatable {
    public enum State: String, Sendable { case running, stopped, failed, dead, unknown }

    public var name: String
    public var state: State
    public var exitCode: Int32?
    public var startTime: Date?
    public var exitTime: Date?

    public init(name: String, state: State, exitCode: Int32? = nil, startTime: Date? = nil, exitTime: Date? = nil) {
        self.name = name
        self.state = state
        self.exitCode = exitCode
        self.startTime = startTime
        self.exitTime = exitTime
    }
}

/// What edgeAgent asks the runtime to do to make it match the deployment.
public enum RuntimeCommand: Sendable, Equatable {
    case create(ModuleSpec)
    /// Recreate with the new spec (image, options, env or version changed).
    case update(ModuleSpec)
    case start(String)
    /// A start after the module stopped on its own; counts as a restart.
    case restart(String)
    case stop(String)
    case remove(String)
}

/// Compares the deployment with the runtime and says what to do, and how each module should be
/// reported. Pure: the agent feeds it the runtime's list, the configuration each module was
/// created with, the restart counters and the time.
public struct ReconcilePlan: Sendable {
    public var commands: [RuntimeCommand] = []
    /// Module → (runtimeStatus, statusDescription) to report.
    public var statuses: [String: (status: String, description: String)] = [:]

    public static let agentName = "edgeAgent"

    public init(deployment: AgentDeployment, runtime: [RuntimeModule], deployedConfig: [String: String],
                backoff: [String: RestartBackoff], now: Date) {
        let wanted = Dictionary(uniqueKeysWithValues: deployment.startOrder.map { ($0.name, $0) })
        let current = Dictionary(runtime.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for module in runtime.map(\.name).sorted() where wanted[module] == nil && module != Self.agentName {
            commands.append(.remove(module))
        }
        for spec in deployment.startOrder {
            guard let running = current[spec.name] else {
                commands.append(.create(spec))
                if spec.desiredStatus == "running" { commands.append(.start(spec.name)) }
                statuses[spec.name] = (spec.desiredStatus == "running" ? "running" : "stopped", "")
                continue
            }
            if deployedConfig[spec.name] != spec.configHash {
                commands.append(.update(spec))
                if spec.desiredStatus == "running" { commands.append(.start(spec.name)) }
                statuses[spec.name] = (spec.desiredStatus == "running" ? "running" : "stopped", "")
                continue
            }
            if spec.desiredStatus == "stopped" {
                if running.state == .running { commands.append(.stop(spec.name)) }
                statuses[spec.name] = ("stopped", "stopped by the deployment")
                continue
            }
            if running.state == .running {
                statuses[spec.name] = ("running", "")
                continue
            }
            guard let exitTime = running.exitTime else {
                commands.append(.start(spec.name))
                statuses[spec.name] = ("running", "")
                continue
            }
            let exit = running.exitCode.map { "exited with code \($0)" } ?? "exited"
            let counter = backoff[spec.name] ?? RestartBackoff()
            if !RestartBackoff.shouldRestart(spec.restartPolicy, exitCode: running.exitCode) {
                statuses[spec.name] = ("stopped", "\(exit); restartPolicy \(spec.restartPolicy.rawValue) leaves it stopped")
            } else if counter.isExhausted {
                statuses[spec.name] = ("failed", "\(exit); restarted \(counter.restartCount) times, giving up (redeploy or restart it to try again)")
            } else if now >= counter.nextAttempt(after: exitTime) {
                commands.append(.restart(spec.name))
                statuses[spec.name] = ("running", "")
            } else {
                let wait = Int(counter.nextAttempt(after: exitTime).timeIntervalSince(now).rounded(.up))
                statuses[spec.name] = ("backoff", "\(exit); restarting in \(wait) s (restart \(counter.restartCount + 1))")
            }
        }
    }
}
