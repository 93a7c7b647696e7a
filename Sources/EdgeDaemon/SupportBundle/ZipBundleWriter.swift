import Foundation
import ZIPFoundation

/// The zip a support bundle is written into: deflated entries, in memory (the management API's
/// answer, `-o -`) or in a file. Entries are added whole; the bundle's parts are small enough
/// (a module's log is at most its three rotated 10 MiB files).
public final class ZipBundleWriter: @unchecked Sendable {
    private var archive: Archive?
    public private(set) var entries: [String] = []
    public private(set) var uncompressedBytes = 0
    private let modified = Date()

    /// An archive in memory; `finish()` gives its bytes.
    public init() throws {
        archive = try Archive(data: Data(), accessMode: .create, pathEncoding: nil)
    }

    /// An archive in a new file at `path` (replaced if it exists).
    public init(path: String) throws {
        let url = URL(fileURLWithPath: path)
        if FileIO.exists(path) { try FileManager.default.removeItem(at: url) }
        archive = try Archive(url: url, accessMode: .create, pathEncoding: nil)
    }

    public func add(_ path: String, _ bytes: [UInt8]) throws {
        guard let archive else { throw DaemonError("the support bundle's zip is already finished") }
        let data = Data(bytes)
        try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), modificationDate: modified,
                             permissions: 0o644, compressionMethod: .deflate) { position, size in
            data.subdata(in: Int(position)..<Int(position) + size)
        }
        entries.append(path)
        uncompressedBytes += data.count
    }

    public func add(_ path: String, text: String) throws { try add(path, Array(text.utf8)) }

    /// Ends the archive (a file archive is closed, so complete on disk) and gives its bytes
    /// when it was made in memory.
    @discardableResult
    public func finish() -> [UInt8]? {
        defer { archive = nil }
        return archive?.data.map { Array($0) }
    }
}
