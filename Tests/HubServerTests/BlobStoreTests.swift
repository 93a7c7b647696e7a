import Foundation
@testable import HubServer
import Testing

@Suite("Blob names")
struct BlobNameTests {
    @Test("Azure's container rules", arguments: ["fileupload", "abc", "a-b-c", "123", String(repeating: "a", count: 63)])
    func goodContainers(name: String) {
        #expect(BlobName.containerProblem(name) == nil)
    }

    @Test("bad containers say what is wrong", arguments: [
        ("ab", "3 to 63"), ("Bad", "'B'"), ("a_b", "'_'"), ("-ab", "start and end"), ("ab-", "start and end"),
        ("a--b", "two hyphens"), (String(repeating: "a", count: 64), "3 to 63"), (".incoming", "'.'"),
    ])
    func badContainers(name: String, needle: String) {
        let problem = BlobName.containerProblem(name)
        #expect(problem?.contains(needle) == true, "\(problem ?? "nil")")
    }

    @Test("blob paths", arguments: ["a", "dev1/report.txt", "x/y/z.bin", "..hidden", "a..b", "name with spaces"])
    func goodBlobs(name: String) {
        #expect(BlobName.blobProblem(name) == nil)
    }

    @Test("traversal and odd paths are refused", arguments: [
        ("..", "'..'"), ("a/../../etc/passwd", "'..'"), ("./a", "'.'"), ("/a", "empty"), ("a//b", "empty"), ("a/", "empty"),
        ("", "empty"), ("a\u{0}b", "control"), (String(repeating: "x", count: 1025), "1024"), (String(repeating: "y", count: 256), "255"),
    ])
    func badBlobs(name: String, needle: String) {
        let problem = BlobName.blobProblem(name)
        #expect(problem?.contains(needle) == true, "\(problem ?? "nil")")
    }
}

@Suite("Blob store")
struct BlobStoreTests {
    func makeStore(maxBlobBytes: Int = 1 << 20) throws -> (BlobStore, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("blobstore-\(UUID().uuidString)")
        return (try BlobStore(dataDirectory: dir, maxBlobBytes: maxBlobBytes), dir)
    }

    @Test("a put lands whole, 0600, with nothing left in .incoming; the key file is 0600")
    func atomicPut() throws {
        let (store, dir) = try makeStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = Data((0..<100_000).map { UInt8($0 % 251) })
        let p = try store.put(data, container: "fileupload", blob: "dev1/report.bin")
        #expect(p.size == data.count)
        #expect(try store.read("fileupload", "dev1/report.bin") == data)
        let path = dir.appendingPathComponent("blobs/fileupload/dev1/report.bin").path
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        #expect(try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("storage.key").path)[.posixPermissions] as? Int == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.incoming.path).isEmpty)
        #expect(store.list().map(\.name) == ["dev1/report.bin"])
    }

    @Test("overwrite replaces; no-overwrite keeps the first and says so")
    func overwrite() throws {
        let (store, dir) = try makeStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        try store.put(Data("one".utf8), container: "c01", blob: "x")
        try store.put(Data("two".utf8), container: "c01", blob: "x")
        #expect(try store.read("c01", "x") == Data("two".utf8))
        do {
            try store.put(Data("three".utf8), container: "c01", blob: "x", overwrite: false)
            Issue.record("expected BlobAlreadyExists")
        } catch {
            #expect(error.code == "BlobAlreadyExists")
        }
        #expect(try store.read("c01", "x") == Data("two".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.incoming.path).isEmpty)
    }

    @Test("bad names never reach the disk")
    func badNames() throws {
        let (store, dir) = try makeStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (container, blob) in [("Bad", "x"), ("good", "../../escape"), ("good", "a//b")] {
            #expect(throws: StorageError.self) { try store.put(Data("x".utf8), container: container, blob: blob) }
        }
        #expect(store.list().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("escape").path))
    }

    @Test("a file and a directory of the same name conflict with a clear error")
    func fileDirectoryConflict() throws {
        let (store, dir) = try makeStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        try store.put(Data("a".utf8), container: "c01", blob: "a")
        do { try store.put(Data("b".utf8), container: "c01", blob: "a/b"); Issue.record("expected a conflict") } catch {
            #expect(error.code == "BlobConflict")
        }
        try store.put(Data("c".utf8), container: "c01", blob: "d/e")
        do { try store.put(Data("d".utf8), container: "c01", blob: "d"); Issue.record("expected a conflict") } catch {
            #expect(error.code == "BlobConflict")
        }
    }

    @Test("leftovers of an interrupted upload are removed at start")
    func incomingCleared() throws {
        let (store, dir) = try makeStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (fd, path) = try store.createIncoming()
        close(fd)
        #expect(FileManager.default.fileExists(atPath: path))
        _ = try BlobStore(dataDirectory: dir)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("a correlation id proves itself and names its device")
    func correlation() throws {
        let (store, dir) = try makeStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = FileUploadCorrelation(deviceID: "dev1", container: "fileupload", blob: "dev1/x.txt", issued: 1_700_000_000)
        let token = c.token(key: store.key)
        #expect(FileUploadCorrelation(token: token, key: store.key) == c)
        #expect(FileUploadCorrelation(token: token, key: Data(0..<32).base64EncodedString()) == nil)
        #expect(FileUploadCorrelation(token: "x" + token, key: store.key) == nil)
    }
}
