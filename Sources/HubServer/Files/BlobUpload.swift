import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// One Put Blob in flight: authorised at the request head, its body written chunk by chunk into
/// `blobs/.incoming/` (never held in memory), then fsynced and moved into place by `finish`.
/// A refused upload keeps only its error and drops the body, so nothing is written.
///
/// `@unchecked Sendable`: `write` runs on the connection's event loop, and `finish` or `abandon`
/// only after the last `write` (the handler calls them at the body's end or the channel's close),
/// so the state is never touched from two places at once.
final class BlobUpload: RequestBodySink, @unchecked Sendable {
    private enum State {
        case refused(StorageError)
        case open(fd: Int32, path: String, bytes: Int, md5: Insecure.MD5)
        case finished
    }

    private let store: BlobStore
    private let container: String
    private let blob: String
    private let overwrite: Bool
    private let expectedMD5: String?
    private let logger: Logger
    private var state: State

    static func refused(_ error: StorageError, store: BlobStore, logger: Logger) -> BlobUpload {
        BlobUpload(store: store, container: "", blob: "", overwrite: false, expectedMD5: nil, logger: logger, state: .refused(error))
    }

    static func open(store: BlobStore, container: String, blob: String, overwrite: Bool, expectedMD5: String?, logger: Logger) -> BlobUpload {
        let state: State
        do {
            let (fd, path) = try store.createIncoming()
            state = .open(fd: fd, path: path, bytes: 0, md5: Insecure.MD5())
        } catch {
            state = .refused(error)
        }
        return BlobUpload(store: store, container: container, blob: blob, overwrite: overwrite, expectedMD5: expectedMD5, logger: logger, state: state)
    }

    private init(store: BlobStore, container: String, blob: String, overwrite: Bool, expectedMD5: String?, logger: Logger, state: State) {
        self.store = store
        self.container = container
        self.blob = blob
        self.overwrite = overwrite
        self.expectedMD5 = expectedMD5
        self.logger = logger
        self.state = state
    }

    /// Writes into the page cache on the event loop: fast, and it keeps the bytes in order
    /// without a queue. The fsync, which waits for the disk, happens in `finish`, off the loop.
    func write(_ chunk: ByteBuffer) {
        guard case .open(let fd, let path, let bytes, var md5) = state else { return }
        let total = bytes + chunk.readableBytes
        guard total <= store.maxBlobBytes else {
            drop(fd, path, StorageError(.payloadTooLarge, "RequestBodyTooLarge",
                                        "The request body is too large and exceeds the maximum permissible limit.\nThis hub takes blobs of at most \(store.maxBlobBytes) bytes (iothub serve --max-blob-size)."))
            return
        }
        let ok = chunk.withUnsafeReadableBytes { raw -> Bool in
            md5.update(bufferPointer: raw)
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
        if ok { state = .open(fd: fd, path: path, bytes: total, md5: md5) } else { drop(fd, path, BlobStore.ioError("cannot write the upload", errno)) }
    }

    private func drop(_ fd: Int32, _ path: String, _ error: StorageError) {
        close(fd)
        unlink(path)
        state = .refused(error)
    }

    func abandon() {
        if case .open(let fd, let path, _, _) = state { close(fd); unlink(path) }
        state = .finished
    }

    func finish() async -> HTTPResponse {
        let current = state
        state = .finished
        switch current {
        case .refused(let error):
            return error.response
        case .finished:
            return StorageError(.internalServerError, "InternalError", "The upload was already answered.").response
        case .open(let fd, let path, let bytes, let md5):
            let digest = Data(md5.finalize()).base64EncodedString()
            if let expectedMD5, expectedMD5 != digest {
                close(fd); unlink(path)
                return StorageError(.badRequest, "Md5Mismatch",
                                    "The MD5 value specified in the request did not match with the MD5 value calculated by the server.\nContent-MD5 was \(expectedMD5); the body's is \(digest).").response
            }
            let synced = fsync(fd) == 0
            let err = errno
            close(fd)
            guard synced else { unlink(path); return BlobStore.ioError("cannot fsync the upload", err).response }
            do {
                let properties = try store.commit(incoming: path, container: container, blob: blob, overwrite: overwrite)
                logger.info("blob stored", metadata: ["container": "\(container)", "blob": "\(blob)", "bytes": "\(bytes)"])
                var headers = StorageHeaders.common()
                headers.add(name: "ETag", value: "\"\(properties.etag)\"")
                headers.add(name: "Last-Modified", value: StorageHeaders.httpDate(properties.lastModified))
                headers.add(name: "Content-MD5", value: digest)
                headers.add(name: "x-ms-request-server-encrypted", value: "false")
                return HTTPResponse(status: .created, headers: headers)
            } catch {
                return error.response
            }
        }
    }
}
