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

    /// WAL frames (pages) past which the WAL should start over: 64 MiB of 4 KiB pages.
    private let maxWALFrames: Int
    /// Set when the WAL is past its bound: the committing thread then finishes the checkpoint.
    private var catchUpWanted = false
    /// The database file, opened for `syncDatabaseFile`; -1 until then.
    private var databaseFile: Int32 = -1

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

    /// A transaction committed: a checkpoint is due within `interval`. Called on the thread that
    /// committed; when it returns true, that thread should run `SQLiteHubStore.checkpointBetweenCommits()`
    /// before it commits again.
    public func noteCommit() -> Bool {
        condition.lock()
        commitsSinceCheckpoint += 1
        if commitsSinceCheckpoint == 1 { condition.signal() }
        let catchUp = catchUpWanted
        catchUpWanted = false
        condition.unlock()
        return catchUp
    }

    /// The committing thread's catch-up did not copy every frame (the pass here held SQLite's
    /// checkpoint lock at that moment): ask again after the next commit.
    public func catchUpFailed() {
        condition.lock()
        catchUpWanted = true
        condition.unlock()
    }

    /// Runs a last checkpoint and stops the thread; the store closes after this.
    public func stop() {
        worker.stop()
        try? queue?.close()
        if databaseFile >= 0 { close(databaseFile) }
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

    /// fdatasync of the database file through a descriptor of our own: the kernel flushes the
    /// file's dirty pages whichever descriptor wrote them.
    private func syncDatabaseFile() {
        if databaseFile < 0 { databaseFile = open(path, O_RDONLY | O_CLOEXEC) }
        if databaseFile >= 0 { _ = fdatasync(databaseFile) }
    }

    private func checkpoint() {
        if queue == nil {
            var config = Configuration()
            config.busyMode = HubDatabase.busyMode
            config.label = "wal-checkpointer"
            queue = try? DatabaseQueue(path: path, configuration: config)
        }
        // A busy or locked database only postpones this checkpoint to the next one.
        guard let passive = try? queue?.writeWithoutTransaction({ db in try db.checkpoint(.passive) }) else { return }
        // Under a steady stream, new frames arrive while the old ones are copied, so the WAL
        // never starts over from its beginning and grows without end (0.9 GB in 15 s at peak).
        // It starts over at the first commit after a checkpoint that copied every frame, and
        // only that checkpoint syncs the database file: everything the passive passes wrote
        // since the last start-over. A RESTART checkpoint here did that while holding every
        // writer back, 16–20 ms at 38,000 msg/s (BENCHMARKS.md). Instead, past the bound:
        if passive.walFrameCount > maxWALFrames {
            // flush the database file here, beside the writer,
            syncDatabaseFile()
            // copy what came meanwhile (a pass that does not reach the end does not sync),
            _ = try? queue?.writeWithoutTransaction { db in try db.checkpoint(.passive) }
            // and let the telemetry writer copy the last frames between two of its commits,
            // where no commit can slip in: about 2 ms.
            condition.lock()
            catchUpWanted = true
            condition.unlock()
        }
        // With no telemetry flowing, other writers (twins, the registry) could still keep the WAL
        // from starting over; far past the bound, hold them back until everything is copied.
        if passive.walFrameCount > 4 * maxWALFrames {
            _ = try? queue?.writeWithoutTransaction { db in try db.checkpoint(.restart) }
        }
    }
}
