import Foundation
import GRDB

/// Copies the WAL into the database file on its own thread and connection. SQLite's automatic
/// checkpoint runs inside whichever commit crosses 1,000 pages, so under steady telemetry one
/// batch in a few dozen paid for copying the pages and two fsyncs, and every message waiting
/// behind it did too. A passive checkpoint here runs beside the writer and never blocks it.
/// The store is opened with `separateCheckpoints` so that commits leave checkpoints to this.
public final class WALCheckpointer: @unchecked Sendable {
    private let path: String
    /// Opened by the first checkpoint, on the checkpointer's thread: a connection opened before
    /// the store had switched the file to WAL never checkpointed it (tested).
    private var queue: DatabaseQueue?
    private let worker = StoreThread(name: "wal-checkpointer")
    private var condition: NSCondition { worker.condition }
    private var commitsSinceCheckpoint = 0
    /// The shortest time between two checkpoints while commits keep coming.
    private let interval: TimeInterval
    /// Checkpoints also run this often when nothing said it committed (registry writes, retention).
    private let idleInterval: TimeInterval

    /// WAL frames (pages) above which the writer waits for a full checkpoint: 64 MiB of 4 KiB pages.
    private let maxWALFrames: Int

    public init(path: String, interval: Duration = .milliseconds(100), idleInterval: Duration = .seconds(2),
                maxWALFrames: Int = 16_384) {
        self.path = path
        self.maxWALFrames = maxWALFrames
        self.interval = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        self.idleInterval = Double(idleInterval.components.seconds) + Double(idleInterval.components.attoseconds) / 1e18
    }

    public func start() {
        worker.start { [self] in run() }
    }

    /// A transaction committed: a checkpoint is due within `interval`.
    public func noteCommit() {
        condition.lock()
        commitsSinceCheckpoint += 1
        if commitsSinceCheckpoint == 1 { condition.signal() }
        condition.unlock()
    }

    /// Runs a last checkpoint and stops the thread; the store closes after this.
    public func stop() {
        worker.stop()
        try? queue?.close()
    }

    private func run() {
        while true {
            condition.lock()
            if commitsSinceCheckpoint == 0 && !worker.stopping {
                _ = condition.wait(until: Date(timeIntervalSinceNow: idleInterval))
            }
            let stop = worker.stopping
            commitsSinceCheckpoint = 0
            condition.unlock()
            checkpoint()
            if stop { return }
            // Let commits gather for a while: a checkpoint per commit would fsync the database
            // file as often as the WAL.
            let deadline = Date(timeIntervalSinceNow: interval)
            condition.lock()
            while !worker.stopping && condition.wait(until: deadline) {}
            condition.unlock()
        }
    }

    private func checkpoint() {
        if queue == nil {
            var config = Configuration()
            config.busyMode = .timeout(10)
            config.label = "wal-checkpointer"
            queue = try? DatabaseQueue(path: path, configuration: config)
        }
        // A busy or locked database only postpones this checkpoint to the next one.
        guard let passive = try? queue?.writeWithoutTransaction({ db in try db.checkpoint(.passive) }) else { return }
        // Under a steady stream, new frames arrive while the old ones are copied, so the WAL
        // never restarts from its beginning and grows without end (0.9 GB in 15 s at peak). Past
        // the bound, a RESTART checkpoint holds the writer back until it has copied everything,
        // and the next commit starts the WAL over.
        if passive.walFrameCount > maxWALFrames {
            _ = try? queue?.writeWithoutTransaction { db in try db.checkpoint(.restart) }
        }
    }
}
