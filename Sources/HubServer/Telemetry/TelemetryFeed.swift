import Foundation
import NIOConcurrencyHelpers

/// Wakes live readers (monitor-events streams) when new telemetry is committed, so a reader
/// waits on a signal rather than polling the store.
public final class TelemetryFeed: Sendable {
    private struct State {
        var latest: Int64 = 0
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var expired: Set<Int> = []
    }

    private let state = NIOLockedValueBox(State())

    /// - Parameter latest: the last sequence number already stored when the hub starts.
    public init(latest: Int64 = 0) {
        state.withLockedValue { $0.latest = latest }
    }

    /// The last committed sequence number: every message up to it is readable in the store.
    public var latest: Int64 { state.withLockedValue { $0.latest } }

    public func publish(_ sequenceNumber: Int64) {
        let woken = state.withLockedValue { s -> [CheckedContinuation<Void, Never>] in
            s.latest = max(s.latest, sequenceNumber)
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for w in woken { w.resume() }
    }

    /// Returns once a message after `position` has been committed, or `timeout` has passed.
    public func wait(after position: Int64, timeout: Duration) async {
        let id = state.withLockedValue { s -> Int in s.nextID += 1; return s.nextID }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let resumeNow = self.state.withLockedValue { s -> Bool in
                        if s.latest > position || s.expired.remove(id) != nil { return true }
                        s.waiters[id] = c
                        return false
                    }
                    if resumeNow { c.resume() }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.expire(id)
            }
            await group.next()
            self.expire(id)
            group.cancelAll()
        }
        state.withLockedValue { _ = $0.expired.remove(id) }
    }

    private func expire(_ id: Int) {
        let waiter = state.withLockedValue { s -> CheckedContinuation<Void, Never>? in
            if let c = s.waiters.removeValue(forKey: id) { return c }
            s.expired.insert(id)
            return nil
        }
        waiter?.resume()
    }
}
