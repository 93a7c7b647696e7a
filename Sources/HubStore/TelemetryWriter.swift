import Foundation
import GRDB

/// Group commit for telemetry: messages submitted while a transaction is being written wait and
/// go together in the next one, so a burst pays one fsync rather than one per message. Each
/// submitter learns its sequence number only after its transaction committed, and only then may
/// the hub send PUBACK. Completions run in submission order, on the writer's thread.
public final class TelemetryWriter: @unchecked Sendable {
    public typealias Completion = @Sendable (Result<TelemetryRecord, Error>) -> Void

    private let pool: DatabasePool
    private let condition = NSCondition()
    private var pending: [(TelemetryRecord, Completion)] = []
    private var stopping = false
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)
    private let maxBatch: Int
    /// Called after every committed batch, on the writer thread: wakes live readers.
    private let onCommit: @Sendable ([TelemetryRecord]) -> Void

    public init(store: SQLiteHubStore, maxBatch: Int = 2048, onCommit: @escaping @Sendable ([TelemetryRecord]) -> Void = { _ in }) {
        self.pool = store.pool
        self.maxBatch = maxBatch
        self.onCommit = onCommit
    }

    public func start() {
        let t = Thread { [self] in run() }
        t.name = "telemetry-writer"
        thread = t
        t.start()
    }

    public func submit(_ record: TelemetryRecord, completion: @escaping Completion) {
        condition.lock()
        if stopping {
            condition.unlock()
            completion(.failure(CancellationError()))
            return
        }
        pending.append((record, completion))
        condition.signal()
        condition.unlock()
    }

    public func submit(_ record: TelemetryRecord) async throws -> TelemetryRecord {
        try await withCheckedThrowingContinuation { cont in
            submit(record) { cont.resume(with: $0) }
        }
    }

    /// Writes whatever is pending, then stops the thread. Called at shutdown so that nothing
    /// accepted is lost.
    public func stop() {
        condition.lock()
        let wasRunning = thread != nil && !stopping
        stopping = true
        condition.signal()
        condition.unlock()
        if wasRunning { finished.wait() }
    }

    private func run() {
        while true {
            condition.lock()
            while pending.isEmpty && !stopping { condition.wait() }
            if pending.isEmpty && stopping {
                condition.unlock()
                finished.signal()
                return
            }
            let take = min(pending.count, maxBatch)
            let batch = Array(pending.prefix(take))
            pending.removeFirst(take)
            condition.unlock()
            write(batch)
        }
    }

    private static let insertSQL = """
        INSERT INTO messages (deviceId, moduleId, enqueuedTime, body, properties, systemProperties)
        VALUES (?, ?, ?, ?, ?, ?)
        """

    private func write(_ batch: [(TelemetryRecord, Completion)]) {
        do {
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let stored: [TelemetryRecord] = try pool.write { db in
                // One prepared statement for the batch: GRDB's Codable insert cost 12 % of the
                // hub's CPU in the fan-in profile (BENCHMARKS.md), the statement itself little.
                let insert = try db.cachedStatement(sql: Self.insertSQL)
                return try batch.map { item in
                    var record = item.0
                    record.enqueuedTime = now
                    try insert.execute(arguments: [record.deviceId, record.moduleId, now, record.body,
                                                   record.properties, record.systemProperties])
                    record.sequenceNumber = db.lastInsertedRowID
                    return record
                }
            }
            for (i, item) in batch.enumerated() { item.1(.success(stored[i])) }
            onCommit(stored)
        } catch {
            for item in batch { item.1(.failure(error)) }
        }
    }
}
