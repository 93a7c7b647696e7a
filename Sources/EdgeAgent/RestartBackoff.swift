import Foundation

/// IoT Edge's restart rule for a module that stopped on its own: wait min(10 s × 2^n, 300 s)
/// after the n-th restart; after 20 restarts the module is failed and left alone; ten minutes
/// of healthy running clear the count.
public struct RestartBackoff: Sendable, Equatable {
    public static let maxRestarts = 20
    public static let healthyReset: TimeInterval = 600
    public static let baseDelay: TimeInterval = 10
    public static let maxDelay: TimeInterval = 300

    public var restartCount = 0
    public var lastRestart: Date?

    public init(restartCount: Int = 0, lastRestart: Date? = nil) {
        self.restartCount = restartCount
        self.lastRestart = lastRestart
    }

    public var delay: TimeInterval {
        min(Self.baseDelay * pow(2, Double(restartCount)), Self.maxDelay)
    }

    public var isExhausted: Bool { restartCount >= Self.maxRestarts }

    /// When the module that exited at `exitTime` may be started again.
    public func nextAttempt(after exitTime: Date) -> Date { exitTime.addingTimeInterval(delay) }

    public mutating func recordRestart(at time: Date) {
        restartCount += 1
        lastRestart = time
    }

    /// Called while the module runs: a long enough healthy stretch forgives past failures.
    public mutating func noteRunning(since start: Date, now: Date) {
        if restartCount > 0, now.timeIntervalSince(start) >= Self.healthyReset { restartCount = 0 }
    }

    /// Whether a module that exited with `exitCode` should be restarted under `policy`.
    public static func shouldRestart(_ policy: ModuleSpec.RestartPolicy, exitCode: Int32?) -> Bool {
        switch policy {
        case .never: false
        case .always, .onUnhealthy: true
        case .onFailure: (exitCode ?? 1) != 0
        }
    }
}
