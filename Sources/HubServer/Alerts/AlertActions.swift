import AsyncHTTPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import Twin

/// Runs an alert's actions and records how each went in the alert's history.
final class AlertActions: Sendable {
    static let webhookAttempts = 3
    static let execTimeout: Duration = .seconds(30)

    private let hub: Hub
    private let http = HTTPClient(eventLoopGroupProvider: .singleton)
    private let running = NIOLockedValueBox<[Task<Void, Never>]>([])

    init(hub: Hub) { self.hub = hub }

    func run(_ event: AlertEvent, historyID: Int64) {
        let task = Task { [self] in
            var results: [AlertEvent.ActionResult] = []
            for action in event.rule.actions { results.append(await perform(action, event)) }
            do {
                try await hub.store.updateAlertHistory(id: historyID, entry: event.historyEntry(results: results).jsonText)
            } catch {
                hub.logger.error("recording alert actions failed", metadata: ["alert": "\(event.name)", "error": "\(error)"])
            }
        }
        running.withLockedValue { tasks in
            tasks.removeAll { $0.isCancelled }
            tasks.append(task)
        }
    }

    /// Waits for actions in progress (at shutdown), then releases the HTTP client.
    func finish() async {
        for task in running.withLockedValue({ $0 }) { await task.value }
        try? await http.shutdown()
    }

    private func perform(_ action: AlertRule.Action, _ event: AlertEvent) async -> AlertEvent.ActionResult {
        let payload = event.commonAlertSchema(host: hub.config.host).jsonText
        switch action {
        case .log:
            hub.logger.warning("ALERT \(event.name) \(event.state.rawValue)",
                               metadata: ["condition": "\(event.rule.condition)", "value": "\(JSONValue.format(event.value))"])
            return .init(action: action.description, ok: true, attempts: 1)
        case .webhook(let url):
            do {
                try await post(payload, to: url, attempts: Self.webhookAttempts, http: http, logger: hub.logger)
                return .init(action: action.description, ok: true, attempts: 1)
            } catch {
                hub.logger.error("alert webhook failed", metadata: ["alert": "\(event.name)", "url": "\(url)", "error": "\(error)"])
                return .init(action: action.description, ok: false, attempts: Self.webhookAttempts, error: "\(error)")
            }
        case .exec(let command):
            do {
                try await Self.exec(command, event: event, stdin: payload)
                return .init(action: action.description, ok: true, attempts: 1)
            } catch {
                hub.logger.error("alert command failed", metadata: ["alert": "\(event.name)", "command": "\(command)", "error": "\(error)"])
                return .init(action: action.description, ok: false, attempts: 1, error: "\(error)")
            }
        }
    }

    /// `/bin/sh -c COMMAND` with the alert in its environment and the JSON on stdin.
    private static func exec(_ command: String, event: AlertEvent, stdin: String) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        var env = ProcessInfo.processInfo.environment
        env["OUTPOST_ALERT_NAME"] = event.name
        env["OUTPOST_ALERT_CONDITION"] = event.state.rawValue
        env["OUTPOST_ALERT_METRIC"] = event.rule.metric.rawValue
        env["OUTPOST_ALERT_VALUE"] = JSONValue.format(event.value)
        process.environment = env
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let exited = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { exited.continuation.yield($0.terminationStatus); exited.continuation.finish() }
        try process.run()
        try? input.fileHandleForWriting.write(contentsOf: Data(stdin.utf8))
        try? input.fileHandleForWriting.close()
        let status = try await withThrowingTaskGroup(of: Int32?.self) { group in
            group.addTask { await exited.stream.first { _ in true } ?? -1 }
            group.addTask {
                try await Task.sleep(for: execTimeout)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
        guard let status else {
            process.terminate()
            throw ExecError.timedOut
        }
        guard status == 0 else { throw ExecError.exit(status) }
    }

    enum ExecError: Error, CustomStringConvertible {
        case timedOut, exit(Int32)
        var description: String {
            switch self {
            case .timedOut: "the command ran longer than 30 s and was stopped"
            case .exit(let code): "the command exited with status \(code)"
            }
        }
    }
}
