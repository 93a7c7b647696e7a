import Foundation
import HubStore
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import Twin

/// The hub's diagnostic log. `record` never blocks and never waits for I/O: it checks the
/// category's setting and queues the record; `DiagnosticLogService` writes the queue to the
/// store in batches (one transaction each) and hands each batch to the category's sink.
/// Nothing queued is dropped: the queue is drained again at shutdown, after the listeners close.
public final class DiagnosticLog: Sendable {
    private let store: SQLiteHubStore
    private let settingsBox: NIOLockedValueBox<[DiagnosticCategory: DiagnosticSetting]>
    private let queue = NIOLockedValueBox<[DiagnosticRecord]>([])
    let sinks: DiagnosticSinks
    private let observers = NIOLockedValueBox<[@Sendable (DiagnosticRecord) -> Void]>([])

    init(store: SQLiteHubStore, host: String, logger: Logger) throws {
        self.store = store
        var settings = Dictionary(uniqueKeysWithValues: DiagnosticCategory.allCases.map { ($0, DiagnosticSetting.defaults($0)) })
        for row in try store.diagnosticSettings() {
            if let setting = DiagnosticSetting(row: row) { settings[setting.category] = setting }
        }
        settingsBox = NIOLockedValueBox(settings)
        sinks = DiagnosticSinks(host: host, logger: logger)
    }

    /// Sees every record, enabled category or not (edgeHub counts refused clients from them).
    public func observe(_ observer: @escaping @Sendable (DiagnosticRecord) -> Void) {
        observers.withLockedValue { $0.append(observer) }
    }

    public func record(_ record: DiagnosticRecord) {
        for observer in observers.withLockedValue({ $0 }) { observer(record) }
        guard setting(record.category).enabled else { return }
        queue.withLockedValue { $0.append(record) }
    }

    public func setting(_ category: DiagnosticCategory) -> DiagnosticSetting {
        settingsBox.withLockedValue { $0[category] ?? .defaults(category) }
    }

    public var settings: [DiagnosticSetting] {
        let all = settingsBox.withLockedValue { $0 }
        return DiagnosticCategory.allCases.map { all[$0] ?? .defaults($0) }
    }

    func update(_ setting: DiagnosticSetting) async throws {
        try await store.saveDiagnosticSetting(setting.row)
        settingsBox.withLockedValue { $0[setting.category] = setting }
    }

    /// Writes what is queued; returns how many records were written.
    @discardableResult
    func flush() throws -> Int {
        let batch = queue.withLockedValue { q -> [DiagnosticRecord] in
            defer { q.removeAll(keepingCapacity: true) }
            return q
        }
        guard !batch.isEmpty else { return 0 }
        let rows = batch.map(\.row)
        do {
            try store.insertDiagnostics(rows)
        } catch {
            // Put them back in front so that a transient failure (disk full, busy) loses nothing.
            queue.withLockedValue { $0.insert(contentsOf: batch, at: 0) }
            throw error
        }
        let current = settingsBox.withLockedValue { $0 }
        for (category, group) in Dictionary(grouping: rows, by: \.category) {
            if let c = DiagnosticCategory(rawValue: category), let sink = current[c]?.sink {
                sinks.deliver(group, to: sink)
            }
        }
        return rows.count
    }

    var pending: Int { queue.withLockedValue { $0.count } }
}

/// Drains the diagnostic log every 100 ms; at shutdown (it is stopped after the listeners)
/// drains it one last time and lets the sinks finish.
struct DiagnosticLogService: Service {
    let hub: Hub

    func run() async throws {
        let log = hub.diagnostics
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            flush(log)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(100)) }
        }
        flush(log)
        await log.sinks.close()
    }

    private func flush(_ log: DiagnosticLog) {
        do { try log.flush() } catch {
            hub.logger.error("writing diagnostic records failed; will retry", metadata: ["error": "\(error)", "pending": "\(log.pending)"])
        }
    }
}
