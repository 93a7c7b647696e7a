import Foundation
import NIOConcurrencyHelpers
import Twin

/// The file upload notifications devices sent (`notify_blob_upload_status`), newest last, kept
/// as JSON lines in `fileupload-notifications.ndjson` (0600) in the data directory: a small,
/// append-only record that needs no schema of its own in the store. Each append is fsynced
/// before the device gets its 204; the file keeps the last `limit` records.
public final class FileUploadNotifications: Sendable {
    public static let limit = 1000
    private let url: URL
    private let lock = NIOLock()

    init(dataDirectory: URL) {
        url = dataDirectory.appendingPathComponent("fileupload-notifications.ndjson")
    }

    func append(_ record: JSONValue) throws {
        let line = Array((record.jsonText + "\n").utf8)
        try lock.withLock {
            let fd = open(url.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw HubError(.serverError, "cannot open \(url.path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            let n = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n == line.count, fsync(fd) == 0 else { throw HubError(.serverError, "cannot write \(url.path): \(String(cString: strerror(errno)))") }
            let lines = readLines()
            if lines.count > 2 * Self.limit { try rewrite(Array(lines.suffix(Self.limit))) }
        }
    }

    /// The records, oldest first.
    public func all() -> [JSONValue] {
        lock.withLock { readLines().suffix(Self.limit).compactMap { try? JSONValue(parsing: $0) } }
    }

    private func readLines() -> [String] {
        guard let data = FileManager.default.contents(atPath: url.path) else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    private func rewrite(_ lines: [String]) throws {
        let temp = url.appendingPathExtension("tmp")
        try SecretFile.write(lines.joined(separator: "\n") + "\n", to: temp)
        guard rename(temp.path, url.path) == 0 else { throw HubError(.serverError, "cannot replace \(url.path): \(String(cString: strerror(errno)))") }
    }
}
