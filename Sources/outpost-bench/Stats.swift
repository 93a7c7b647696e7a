import BenchHistogram
import NIOConcurrencyHelpers

/// Counters and latency histograms shared by every connection of a run. One lock: the load
/// generator runs on one or two event loops, so it is rarely contended, and it keeps the
/// progress line and the final report consistent.
final class Stats: @unchecked Sendable {
    struct Snapshot {
        var published = 0
        var acked = 0
        var received = 0
        var duplicates = 0
        var connected = 0
        var errors: [String: Int] = [:]
        /// Publish → PUBACK (or request → response), microseconds.
        var ackLatency = LogLinearHistogram()
        /// Publish → the reader's copy, microseconds.
        var endToEnd = LogLinearHistogram()
        /// TCP connect start → CONNACK, microseconds.
        var connectLatency = LogLinearHistogram()
        var errorCount: Int { errors.values.reduce(0, +) }
    }

    private let lock = NIOLock()
    private var s = Snapshot()
    /// Per device, the sequence numbers the reader has seen, to count duplicates.
    private var seen: [Int: SequenceSet] = [:]

    var snapshot: Snapshot { lock.withLock { s } }

    func published(_ n: Int = 1) { lock.withLock { s.published += n } }

    func acked(latencyNanos: UInt64) {
        lock.withLock {
            s.acked += 1
            s.ackLatency.record(latencyNanos / 1000)
        }
    }

    func connected(latencyNanos: UInt64) {
        lock.withLock {
            s.connected += 1
            s.connectLatency.record(latencyNanos / 1000)
        }
    }

    func disconnected() { lock.withLock { s.connected -= 1 } }

    func received(_ fields: Payload.Fields, at now: UInt64) {
        lock.withLock {
            if seen[fields.device, default: SequenceSet()].insert(fields.sequence) {
                s.received += 1
                s.endToEnd.record(now >= fields.sentNanos ? (now - fields.sentNanos) / 1000 : 0)
            } else {
                s.duplicates += 1
            }
        }
    }

    func error(_ what: String) { lock.withLock { s.errors[what, default: 0] += 1 } }
}

/// The sequence numbers seen of one device: a contiguous prefix plus the few beyond it, so that
/// millions of in-order messages cost a counter, not a set.
struct SequenceSet {
    private var prefix = 0
    private var beyond: Set<Int> = []

    /// Whether `n` is new.
    mutating func insert(_ n: Int) -> Bool {
        if n < prefix || beyond.contains(n) { return false }
        if n == prefix {
            prefix += 1
            while beyond.remove(prefix) != nil { prefix += 1 }
        } else {
            beyond.insert(n)
        }
        return true
    }
}
