import Foundation
import NIOCore
import NIOHTTP1

/// The hub's blob endpoint on its HTTPS listener, in Azure Storage's path style:
/// `https://{host}/blobs/{container}/{blob path}?{service SAS}`. The account name `blobs` is the
/// first path segment, as with Azurite, so the Azure Storage libraries rebuild the very URL they
/// were given; it is also what keeps blob paths apart from the hub's REST paths (`/devices/…`,
/// `/twins/…`), which are valid container names. Put Blob, Get Blob (with ranges), Get Blob
/// Properties, Delete Blob and List Blobs, each authorised by the SAS alone.
struct StorageAPI: Sendable {
    let hub: Hub
    var store: BlobStore { hub.blobs }

    static let pathPrefix = "/\(BlobStore.accountName)/"

    /// The request's container and blob (nil for a container request), or what is wrong with them.
    struct Target {
        var container: String
        var blob: String?
    }

    static func target(_ r: HTTPRequest) throws(StorageError) -> Target {
        let s = r.segments
        guard s.count >= 2 else {
            throw StorageError(.badRequest, "InvalidUri", "The requested URI does not represent any resource on the server.\nName a container: \(pathPrefix){container}[/{blob}].")
        }
        if let problem = BlobName.containerProblem(s[1]) { throw StorageError.invalidName(problem) }
        guard s.count > 2 else { return Target(container: s[1], blob: nil) }
        let blob = s[2...].joined(separator: "/")
        if let problem = BlobName.blobProblem(blob) { throw StorageError.invalidName(problem) }
        return Target(container: s[1], blob: blob)
    }

    // MARK: Authorisation

    /// Checks the SAS in the query against `target`; `needed` is any one of the permissions
    /// that allow the operation. Returns the SAS's permissions.
    func authorize(_ r: HTTPRequest, _ target: Target, needed: String, operation: String, now: Date = Date()) throws(StorageError) -> String {
        guard r.query["sig"] != nil else {
            throw StorageError.authenticationFailed("The URL carries no SAS (…?sv=…&sig=…). Get one with `iothub files sas --container \(target.container)`, or from the hub with get_storage_info_for_blob.")
        }
        let sas = try StorageSAS(query: r.query)
        let signedBlob: String?
        switch sas.resource {
        case .container: signedBlob = nil
        case .blob:
            guard let blob = target.blob else {
                throw StorageError(.forbidden, "AuthorizationResourceTypeMismatch",
                                   "This request is not authorized to perform this operation using this resource type.\n\(operation) needs a container SAS (sr=c); this one is for a single blob (sr=b).")
            }
            signedBlob = blob
        }
        if sas.extra["si"] != nil {
            throw StorageError.authenticationFailed("si=\(sas.extra["si"]!) names a stored access policy; this hub has none. Make the SAS with its own sp and se.")
        }
        if sas.extra["sip"] != nil {
            throw StorageError.authenticationFailed("sip=\(sas.extra["sip"]!) limits the client's address, which this hub does not check. Make the SAS without sip.")
        }
        let resource = StorageSAS.canonicalResource(account: BlobStore.accountName, container: target.container, blob: signedBlob)
        guard sas.isSigned(canonicalResource: resource, base64Key: store.key) else {
            let sts = sas.stringToSign(canonicalResource: resource).replacingOccurrences(of: "\n", with: "\\n")
            throw StorageError.authenticationFailed("Signature did not match. String to sign used was \(sts). The SAS was not made by this hub for \(resource), or was changed; get a new one.")
        }
        guard let expiry = StorageSAS.parseTime(sas.expiry) else {
            throw StorageError.authenticationFailed("se=\(sas.expiry) is not a time: use ISO 8601 in UTC, e.g. 2030-01-01T00:00:00Z.")
        }
        let start = try sas.start.map { text throws(StorageError) in
            guard let d = StorageSAS.parseTime(text) else { throw StorageError.authenticationFailed("st=\(text) is not a time: use ISO 8601 in UTC, e.g. 2030-01-01T00:00:00Z.") }
            return d
        }
        let window = "Start [\(start.map(StorageHeaders.httpDate) ?? "-")] - Expiry [\(StorageHeaders.httpDate(expiry))] - Current [\(StorageHeaders.httpDate(now))]"
        if expiry <= now {
            throw StorageError.authenticationFailed("Signature not valid in the specified time frame: \(window). The SAS expired; get a new one.")
        }
        if let start, start > now.addingTimeInterval(300) {  // Azure allows for five minutes of clock skew
            throw StorageError.authenticationFailed("Signature not valid in the specified time frame: \(window). The SAS is not valid yet.")
        }
        guard sas.permissions.contains(where: { needed.contains($0) }) else {
            throw StorageError.permissionMismatch(needed.count == 1 ? needed : needed.map(String.init).joined(separator: " or "), sas.permissions, operation)
        }
        return sas.permissions
    }

    // MARK: Put Blob (streamed)

    /// The sink for a Put Blob, or nil for any other request. Everything that can refuse the
    /// upload is checked here, at the head, so that a refused body is never written.
    func uploadSink(for head: HTTPRequestHead) -> RequestBodySink? {
        guard head.method == .PUT, head.uri.hasPrefix(Self.pathPrefix) else { return nil }
        let request = HTTPRequest(head: head, body: ByteBuffer())
        do throws(StorageError) {
            let target = try Self.target(request)
            guard let blob = target.blob else {
                throw StorageError(.badRequest, "UnsupportedHttpVerb", "Containers are created by the first upload into them; PUT a blob: \(Self.pathPrefix)\(target.container)/{blob}.")
            }
            if let comp = request.query["comp"] {
                throw StorageError(.badRequest, "UnsupportedQueryParameter",
                                   "comp=\(comp) is not supported: this hub takes a blob in one Put Blob of at most \(store.maxBlobBytes) bytes (with azure-storage-blob, max_single_put_size above the blob's size).")
            }
            let permissions = try authorize(request, target, needed: "wc", operation: "Put Blob")
            guard head.headers.first(name: "x-ms-blob-type") == "BlockBlob" else {
                throw StorageError(.badRequest, head.headers.contains(name: "x-ms-blob-type") ? "InvalidHeaderValue" : "MissingRequiredHeader",
                                   "An HTTP header that's mandatory for this request is not specified or has an invalid value.\nPut Blob needs x-ms-blob-type: BlockBlob (the only type this hub stores).")
            }
            if let length = head.headers.first(name: "Content-Length").flatMap(Int.init), length > store.maxBlobBytes {
                throw StorageError(.payloadTooLarge, "RequestBodyTooLarge",
                                   "The request body is too large and exceeds the maximum permissible limit.\nThis hub takes blobs of at most \(store.maxBlobBytes) bytes; this one is \(length).")
            }
            // `c` without `w` may create a blob but not replace one.
            let overwrite = head.headers.first(name: "If-None-Match") != "*" && permissions.contains("w")
            return BlobUpload.open(store: store, container: target.container, blob: blob, overwrite: overwrite,
                                   expectedMD5: head.headers.first(name: "Content-MD5"), logger: hub.logger)
        } catch {
            return BlobUpload.refused(error, store: store, logger: hub.logger)
        }
    }

    // MARK: Everything else

    func handle(_ r: HTTPRequest) async -> HTTPResponse {
        do throws(StorageError) {
            let target = try Self.target(r)
            switch (r.method, target.blob) {
            case (.GET, nil) where r.query["comp"] == "list":
                _ = try authorize(r, target, needed: "l", operation: "List Blobs")
                return BlobListing.response(store.list(container: target.container), container: target.container,
                                            prefix: r.query["prefix"], endpoint: "https://\(hub.config.host)\(Self.pathPrefix)")
            case (.GET, let blob?), (.HEAD, let blob?):
                _ = try authorize(r, target, needed: "r", operation: r.method == .GET ? "Get Blob" : "Get Blob Properties")
                return try download(target.container, blob, r)
            case (.DELETE, let blob?):
                _ = try authorize(r, target, needed: "d", operation: "Delete Blob")
                guard store.properties(target.container, blob) != nil else { throw StorageError.blobNotFound(target.container, blob) }
                unlink(store.fileURL(target.container, blob).path)
                return HTTPResponse(status: .accepted, headers: StorageHeaders.common())
            default:
                throw StorageError(.badRequest, "UnsupportedHttpVerb", "\(r.method.rawValue) \(r.path) is not served: blobs take PUT, GET, HEAD and DELETE; a container GET ?restype=container&comp=list.")
            }
        } catch {
            return error.response
        }
    }

    /// Get Blob: the whole blob, or the byte range of `x-ms-range` or `Range` (206).
    func download(_ container: String, _ blob: String, _ r: HTTPRequest) throws(StorageError) -> HTTPResponse {
        guard let p = store.properties(container, blob) else { throw StorageError.blobNotFound(container, blob) }
        var headers = StorageHeaders.common()
        headers.add(name: "ETag", value: "\"\(p.etag)\"")
        headers.add(name: "Last-Modified", value: StorageHeaders.httpDate(p.lastModified))
        headers.add(name: "x-ms-blob-type", value: "BlockBlob")
        headers.add(name: "x-ms-creation-time", value: StorageHeaders.httpDate(p.lastModified))
        headers.add(name: "x-ms-lease-state", value: "available")
        headers.add(name: "x-ms-lease-status", value: "unlocked")
        headers.add(name: "x-ms-server-encrypted", value: "false")
        headers.add(name: "Accept-Ranges", value: "bytes")
        headers.add(name: "Content-Type", value: "application/octet-stream")
        var range = 0..<p.size
        var status = HTTPResponseStatus.ok
        if let spec = r.headers.first(name: "x-ms-range") ?? r.headers.first(name: "Range") {
            guard let asked = Self.byteRange(spec, size: p.size) else {
                throw StorageError(.rangeNotSatisfiable, "InvalidRange", "The range specified is invalid for the current size of the resource.\n\(spec) does not fit a blob of \(p.size) bytes.")
            }
            range = asked
            status = .partialContent
            headers.add(name: "Content-Range", value: "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(p.size)")
        }
        headers.add(name: "Content-Length", value: "\(range.count)")
        if r.method == .HEAD { return HTTPResponse(status: status, headers: headers) }
        let path = store.fileURL(container, blob).path
        let bytes = range
        return HTTPResponse(status: status, headers: headers, body: .stream { writer in
            guard let file = FileHandle(forReadingAtPath: path) else { throw BlobStore.ioError("cannot open \(path)", errno) }
            defer { try? file.close() }
            try file.seek(toOffset: UInt64(bytes.lowerBound))
            var left = bytes.count
            while left > 0 {
                let chunk = try file.read(upToCount: min(left, 1 << 20)) ?? Data()
                if chunk.isEmpty { throw BlobStore.ioError("\(path) shrank while it was read", EIO) }
                try await writer.write(ByteBuffer(bytes: chunk))
                left -= chunk.count
            }
        })
    }

    /// `bytes=a-b`, `bytes=a-` within a blob of `size` bytes.
    static func byteRange(_ spec: String, size: Int) -> Range<Int>? {
        guard spec.hasPrefix("bytes=") else { return nil }
        let parts = spec.dropFirst(6).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let first = Int(parts[0]), first < size else { return nil }
        let last = parts[1].isEmpty ? size - 1 : Int(parts[1]).map { min($0, size - 1) }
        guard let last, last >= first else { return nil }
        return first..<(last + 1)
    }
}
