import Foundation

/// The thread a store worker (the telemetry writer, the WAL checkpointer) runs its loop on, the
/// condition the loop waits on, and an orderly stop: `stop()` sets `stopping`, wakes the loop and
/// waits until it has returned. Read and write `stopping` with `condition` locked.
final class StoreThread: @unchecked Sendable {
    let condition = NSCondition()
    var stopping = false
    private let name: String
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)

    init(name: String) { self.name = name }

    func start(_ loop: @escaping @Sendable () -> Void) {
        let t = Thread { [finished] in
            loop()
            finished.signal()
        }
        t.name = name
        thread = t
        t.start()
    }

    /// Returns once the loop has returned; at once if it never started or was stopped before.
    func stop() {
        condition.lock()
        let wasRunning = thread != nil && !stopping
        stopping = true
        condition.signal()
        condition.unlock()
        if wasRunning { finished.wait() }
    }
}
