import Foundation
import GRDB

/// Group commit for telemetry: messages submitted while a transaction is being written wait and
/// go together in the next one, so a burst pays one fsync rather than one per message. Each
/// submitter learns its sequence number only after its transaction committed, and only then may
/// the hub send PUBACK. Completions run in submission order, on the writer's thread.
public final class TelemetryWriter: @unchecked Sendable {
    /// Only where the message landed: handing each submitter its whole record back cost five
    /// reference-count operations per copy, and the record was copied several times per message.
    public typealias Completion = @Sendable (Result<TelemetryStored, Error>) -> Void

    private let pool: DatabasePool
    private let worker = StoreThread(name: "telemetry-writer")
    private var condition: NSCondition { worker.condition }
    private var pending: [(TelemetryRecord, Completion)] = []
    private let maxBatch: Int
    /// Which devices already have their `messageBlocks` row; only the writer's thread uses it.
    private var blocks = TelemetryBlocks()
    /// Called after every committed batch, on the writer thread: wakes live readers.
    private let onCommit: @Sendable ([TelemetryRecord]) -> Void

    public init(store: SQLiteHubStore, maxBatch: Int = 2048, onCommit: @escaping @Sendable ([TelemetryRecord]) -> Void = { _ in }) {
        self.pool = store.pool
        self.maxBatch = maxBatch
        self.onCommit = onCommit
    }

    public func start() {
        worker.start { [self] in run() }
    }

    public func submit(_ record: TelemetryRecord, completion: @escaping Completion) {
        condition.lock()
        if worker.stopping {
            condition.unlock()
            completion(.failure(CancellationError()))
            return
        }
        pending.append((record, completion))
        condition.signal()
        condition.unlock()
    }

    /// The record as stored, with its sequence number and enqueued time.
    public func submit(_ record: TelemetryRecord) async throws -> TelemetryRecord {
        let stored = try await withCheckedThrowingContinuation { cont in
            submit(record) { cont.resume(with: $0) }
        }
        var result = record
        result.sequenceNumber = stored.sequenceNumber
        result.enqueuedTime = stored.enqueuedTime
        return result
    }

    /// Writes whatever is pending, then stops the thread. Called at shutdown so that nothing
    /// accepted is lost.
    public func stop() {
        worker.stop()
    }

    private func run() {
        while true {
            condition.lock()
            while pending.isEmpty && !worker.stopping { condition.wait() }
            if pending.isEmpty && worker.stopping {
                condition.unlock()
                return
            }
            var batch: [(TelemetryRecord, Completion)] = []
            if pending.count <= maxBatch {
                swap(&batch, &pending)  // the common case: no element is copied
            } else {
                batch = Array(pending.prefix(maxBatch))
                pending.removeFirst(maxBatch)
            }
            condition.unlock()
            write(batch)
        }
    }

    private static let insertSQL = """
        INSERT INTO messages (deviceId, moduleId, enqueuedTime, body, properties, systemProperties)
        VALUES (?, ?, ?, ?, ?, ?)
        """
    private static let blockSQL = "INSERT OR IGNORE INTO messageBlocks (block, deviceId) VALUES (?, ?)"

    private func write(_ batch: [(TelemetryRecord, Completion)]) {
        do {
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            var stored: [TelemetryRecord] = []
            stored.reserveCapacity(batch.count)
            try pool.write { db in
                // One prepared statement for the batch: GRDB's Codable insert cost 12 % of the
                // hub's CPU in the fan-in profile (BENCHMARKS.md), the statement itself little.
                let insert = try db.cachedStatement(sql: Self.insertSQL)
                let markBlock = try db.cachedStatement(sql: Self.blockSQL)
                stored.removeAll(keepingCapacity: true)  // a retried transaction starts again
                for item in batch {
                    var record = item.0
                    record.enqueuedTime = now
                    try insert.execute(arguments: [record.deviceId, record.moduleId, now, record.body,
                                                   record.properties, record.systemProperties])
                    let sequenceNumber = db.lastInsertedRowID
                    record.sequenceNumber = sequenceNumber
                    let block = TelemetryBlocks.block(of: sequenceNumber)
                    if blocks.needsRow(block: block, deviceId: record.deviceId) {
                        try markBlock.execute(arguments: [block, record.deviceId])
                    }
                    stored.append(record)
                }
            }
            for (i, item) in batch.enumerated() {
                item.1(.success(TelemetryStored(sequenceNumber: stored[i].sequenceNumber ?? 0, enqueuedTime: now)))
            }
            onCommit(stored)
        } catch {
            // Rows marked in the rolled-back transaction were not written: forget every mark,
            // and the next commits insert their rows again (a duplicate is ignored).
            blocks = TelemetryBlocks()
            for item in batch { item.1(.failure(error)) }
        }
    }
}

/// Where a submitted message landed in the store.
public struct TelemetryStored: Sendable, Equatable {
    public var sequenceNumber: Int64
    /// Milliseconds since 1970: the commit's time, shared by its whole batch.
    public var enqueuedTime: Int64
}
