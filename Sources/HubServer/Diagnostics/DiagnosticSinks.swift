import AsyncHTTPClient
import Foundation
import HubStore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Twin

/// Delivers diagnostic records to files (NDJSON, appended) and webhooks (a JSON array per batch,
/// POSTed). Each sink has its own worker and bounded queue, so a slow or dead receiver delays
/// only itself; what a full queue cannot take is counted and logged, never waited for.
final class DiagnosticSinks: Sendable {
    static let maxQueuedBatches = 1000
    static let webhookAttempts = 3

    private let host: String
    private let logger: Logger
    private let workers = NIOLockedValueBox<[String: AsyncStream<[DiagnosticRow]>.Continuation]>([:])
    private let tasks = NIOLockedValueBox<[Task<Void, Never>]>([])
    let http: HTTPClient

    init(host: String, logger: Logger) {
        self.host = host
        self.logger = logger
        self.http = HTTPClient(eventLoopGroupProvider: .singleton)
    }

    func deliver(_ rows: [DiagnosticRow], to sink: DiagnosticSink) {
        let continuation = workers.withLockedValue { workers -> AsyncStream<[DiagnosticRow]>.Continuation in
            if let existing = workers[sink.description] { return existing }
            let (stream, continuation) = AsyncStream<[DiagnosticRow]>.makeStream(bufferingPolicy: .bufferingOldest(Self.maxQueuedBatches))
            workers[sink.description] = continuation
            let task = Task { [self] in
                for await batch in stream { await write(batch, to: sink) }
            }
            tasks.withLockedValue { $0.append(task) }
            return continuation
        }
        if case .dropped = continuation.yield(rows) {
            logger.warning("diagnostic sink is behind; records not delivered to it (they are in the store)",
                           metadata: ["sink": "\(sink)", "records": "\(rows.count)"])
        }
    }

    /// Lets every worker finish what it holds, then releases the HTTP client.
    func close() async {
        workers.withLockedValue { workers in
            for continuation in workers.values { continuation.finish() }
            workers.removeAll()
        }
        for task in tasks.withLockedValue({ $0 }) { await task.value }
        try? await http.shutdown()
    }

    private func write(_ rows: [DiagnosticRow], to sink: DiagnosticSink) async {
        let records = rows.map { ResourceLog.json($0, host: host) }
        switch sink {
        case .file(let path):
            let text = records.map { $0.jsonText + "\n" }.joined()
            do { try Self.append(text, to: path) } catch {
                logger.error("diagnostic file sink failed", metadata: ["path": "\(path)", "error": "\(error)"])
            }
        case .webhook(let url):
            let body = JSONValue.array(records).jsonText
            do {
                try await post(body, to: url, attempts: Self.webhookAttempts, http: http, logger: logger)
            } catch {
                logger.error("diagnostic webhook failed; records kept in the store only",
                             metadata: ["url": "\(url)", "records": "\(rows.count)", "error": "\(error)"])
            }
        }
    }

    private static func append(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { Foundation.close(fd) }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            bytes = bytes.dropFirst(n)
        }
    }
}

/// POSTs JSON, retrying with back-off (1 s, 2 s, …) on failure or a non-2xx answer. Shared by
/// the webhook sink and alert actions.
func post(_ body: String, to url: URL, attempts: Int, http: HTTPClient, logger: Logger) async throws {
    var lastError: Error = CancellationError()
    for attempt in 1...max(1, attempts) {
        do {
            var request = HTTPClientRequest(url: url.absoluteString)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
            let response = try await http.execute(request, timeout: .seconds(10))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            guard (200..<300).contains(response.status.code) else {
                throw WebhookError.status(Int(response.status.code))
            }
            return
        } catch {
            lastError = error
            logger.warning("webhook attempt failed", metadata: ["url": "\(url)", "attempt": "\(attempt)", "error": "\(error)"])
            if attempt < attempts { try? await Task.sleep(for: .seconds(1 << (attempt - 1))) }
        }
    }
    throw lastError
}

enum WebhookError: Error, CustomStringConvertible {
    case status(Int)
    var description: String {
        switch self { case .status(let code): "the receiver answered HTTP \(code)" }
    }
}
