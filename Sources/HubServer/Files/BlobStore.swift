import Foundation
import IoTProtocol

/// The hub's blob storage: `<data-dir>/blobs/<container>/<blob path>`, one file per blob (mode
/// 0600, directories 0700), signed access with a key of its own (`storage.key`, 0600), so that
/// handing out upload URLs never involves the policy keys. A blob is written to
/// `blobs/.incoming/` first, fsynced, then renamed into place and its directory fsynced: a reader
/// sees the old blob or the whole new one, and a crash leaves no half-written blob.
public final class BlobStore: Sendable {
    /// The storage account's name: the first path segment of every blob URL, as with Azurite's
    /// `http://127.0.0.1:10000/devstoreaccount1/…`, and part of what a SAS signs.
    public static let accountName = "blobs"
    public static let incomingName = ".incoming"
    public static let defaultMaxBlobBytes = 256 << 20

    public let root: URL
    let incoming: URL
    public let key: String
    public let maxBlobBytes: Int

    public init(dataDirectory: URL, maxBlobBytes: Int = BlobStore.defaultMaxBlobBytes) throws {
        root = dataDirectory.appendingPathComponent("blobs")
        incoming = root.appendingPathComponent(Self.incomingName)
        self.maxBlobBytes = maxBlobBytes
        for dir in [root, incoming] {
            do {
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw HubSetupError.cannotWrite(dir.path, "cannot create the directory (\((error as NSError).localizedDescription))")
            }
        }
        // Uploads cut off by a crash or restart: never renamed into place, so nobody sees them.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: incoming.path)) ?? [] {
            unlink(incoming.appendingPathComponent(name).path)
        }
        let keyFile = dataDirectory.appendingPathComponent("storage.key")
        if FileManager.default.fileExists(atPath: keyFile.path) {
            key = try SecretFile.read(keyFile).trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            key = SymmetricKeyGenerator.make()
            try SecretFile.write(key + "\n", to: keyFile)
        }
    }

    public struct Properties: Sendable, Equatable {
        public var size: Int
        public var lastModified: Date
        /// Changes with every write: the modification time in nanoseconds, in Azure's `0x…` style.
        public var etag: String
    }

    public struct Item: Sendable {
        public var container: String
        public var name: String
        public var properties: Properties
    }

    func fileURL(_ container: String, _ blob: String) -> URL {
        root.appendingPathComponent(container).appendingPathComponent(blob)
    }

    public func properties(_ container: String, _ blob: String) -> Properties? {
        Self.properties(path: fileURL(container, blob).path)
    }

    static func properties(path: String) -> Properties? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        let ns = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        return Properties(size: Int(st.st_size), lastModified: Date(timeIntervalSince1970: Double(ns) / 1e9),
                          etag: "0x" + String(UInt64(ns), radix: 16, uppercase: true))
    }

    /// The containers, sorted.
    public func containers() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.filter { BlobName.containerProblem($0) == nil }.sorted()
    }

    /// Every blob of `container` (or of all containers), sorted by container and name.
    public func list(container: String? = nil) -> [Item] {
        var items: [Item] = []
        for c in container.map({ [$0] }) ?? containers() {
            let base = root.appendingPathComponent(c)
            guard let walker = FileManager.default.enumerator(atPath: base.path) else { continue }
            while let relative = walker.nextObject() as? String {
                if let p = Self.properties(path: base.appendingPathComponent(relative).path) {
                    items.append(Item(container: c, name: relative, properties: p))
                }
            }
        }
        return items.sorted { ($0.container, $0.name) < ($1.container, $1.name) }
    }

    public func read(_ container: String, _ blob: String) throws(StorageError) -> Data {
        guard properties(container, blob) != nil, let data = FileManager.default.contents(atPath: fileURL(container, blob).path) else {
            throw StorageError.blobNotFound(container, blob)
        }
        return data
    }

    /// A new file in `.incoming/`, open for writing; the caller writes, then `commit`s or `discard`s.
    func createIncoming() throws(StorageError) -> (fd: Int32, path: String) {
        let path = incoming.appendingPathComponent(UUID().uuidString.lowercased()).path
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Self.ioError("cannot create \(path)", errno) }
        return (fd, path)
    }

    /// Moves a complete, fsynced, closed incoming file into place. With `overwrite` false an
    /// existing blob is kept and 409 BlobAlreadyExists returned (`link` fails atomically when
    /// the name is taken, where checking first would race another upload).
    func commit(incoming path: String, container: String, blob: String, overwrite: Bool) throws(StorageError) -> Properties {
        let dest = fileURL(container, blob)
        let parent = dest.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            unlink(path)
            throw StorageError(.conflict, "BlobConflict",
                               "Cannot store blob \(blob) in \(container): a blob named after one of its directories exists (Outpost keeps blobs as files). Choose another name.")
        }
        let moved = overwrite ? rename(path, dest.path) : link(path, dest.path)
        let err = errno
        if !overwrite || moved != 0 { unlink(path) }
        if moved != 0 {
            if err == EEXIST {
                throw StorageError(.conflict, "BlobAlreadyExists",
                                   "The specified blob already exists.\n\(container)/\(blob) is there and the request asked not to overwrite it (If-None-Match: *, or a SAS with c but not w).")
            }
            if err == EISDIR || err == ENOTEMPTY {
                throw StorageError(.conflict, "BlobConflict",
                                   "Cannot store blob \(blob) in \(container): other blobs live under \(blob)/ (Outpost keeps blobs as files). Choose another name.")
            }
            throw Self.ioError("cannot move the upload to \(dest.path)", err)
        }
        Self.fsyncDirectory(parent.path)
        guard let properties = Self.properties(path: dest.path) else { throw Self.ioError("cannot stat \(dest.path)", errno) }
        return properties
    }

    /// Writes a whole blob at once (the same path an upload takes).
    @discardableResult
    public func put(_ data: Data, container: String, blob: String, overwrite: Bool = true) throws(StorageError) -> Properties {
        if let problem = BlobName.containerProblem(container) ?? BlobName.blobProblem(blob) { throw StorageError.invalidName(problem) }
        let (fd, path) = try createIncoming()
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let err = errno
        let synced = fsync(fd) == 0
        close(fd)
        guard written == data.count, synced else {
            unlink(path)
            throw Self.ioError("cannot write the blob", err)
        }
        return try commit(incoming: path, container: container, blob: blob, overwrite: overwrite)
    }

    static func fsyncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    static func ioError(_ what: String, _ code: Int32) -> StorageError {
        StorageError(.internalServerError, "InternalError", "\(what): \(String(cString: strerror(code))). Check the disk and the data directory's permissions.")
    }
}
