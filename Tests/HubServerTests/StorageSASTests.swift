import Foundation
@testable import HubServer
import Testing

/// Vectors made with azure-storage-blob 12.31.1's `generate_blob_sas` / `generate_container_sas`
/// (account "blobs", key = base64 of bytes 0…31), so that the hub's signer agrees with the
/// library that devices and operators use.
@Suite("Storage service SAS")
struct StorageSASTests {
    static let key = Data(0..<32).base64EncodedString()

    @Test("a blob SAS from azure-storage-blob verifies")
    func libraryBlobSAS() throws {
        let sas = try StorageSAS(query: ["se": "2030-01-02T03:04:05Z", "sp": "rw", "sv": "2026-10-06", "sr": "b",
                                         "sig": "E2WxgIT18inRPh7IckqDpPcZvcAwUCzNaiKOwhBG4zg="])
        let resource = StorageSAS.canonicalResource(account: "blobs", container: "fileupload", blob: "dev1/report.txt")
        #expect(sas.stringToSign(canonicalResource: resource) == "rw\n\n2030-01-02T03:04:05Z\n/blob/blobs/fileupload/dev1/report.txt\n\n\n\n2026-10-06\nb\n\n\n\n\n\n\n")
        #expect(sas.isSigned(canonicalResource: resource, base64Key: Self.key))
        let other = StorageSAS.canonicalResource(account: "blobs", container: "fileupload", blob: "dev2/report.txt")
        #expect(!sas.isSigned(canonicalResource: other, base64Key: Self.key), "a blob SAS does not reach another blob")
    }

    @Test("a container SAS with a start time verifies; a '+' read as a space still matches")
    func libraryContainerSAS() throws {
        let sas = try StorageSAS(query: ["st": "2029-01-01T00:00:00Z", "se": "2030-01-02T03:04:05Z", "sp": "rwl", "sv": "2026-10-06",
                                         "sr": "c", "sig": "LjxixlyG9Rar9JTiy3OpbcWwAw/it9wjXFTRS27FuVk="])
        #expect(sas.isSigned(canonicalResource: "/blob/blobs/bundles", base64Key: Self.key))
        #expect(!sas.isSigned(canonicalResource: "/blob/blobs/bundles", base64Key: Data(1...32).base64EncodedString()))
    }

    @Test("what the hub issues verifies, and a changed field does not")
    func roundTrip() throws {
        let expiry = Date(timeIntervalSince1970: 1_900_000_000)
        let made = StorageSAS(resource: .container, permissions: "rwl", expiry: expiry)
        let query = made.signedQuery(canonicalResource: "/blob/blobs/bundles", base64Key: Self.key)
        var fields: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            fields[kv[0]] = kv[1].removingPercentEncoding
        }
        let parsed = try StorageSAS(query: fields)
        #expect(parsed.expiry == "2030-03-17T17:46:40Z")
        #expect(parsed.isSigned(canonicalResource: "/blob/blobs/bundles", base64Key: Self.key))
        fields["sp"] = "rwdl"
        #expect(!(try StorageSAS(query: fields)).isSigned(canonicalResource: "/blob/blobs/bundles", base64Key: Self.key))
    }

    @Test("missing and malformed fields are named")
    func malformed() {
        let base = ["sv": "2021-06-08", "sr": "c", "sp": "r", "se": "2030-01-01T00:00:00Z", "sig": "x"]
        for (name, value, needle) in [("sig", "", "sig="), ("sr", "bs", "sr=bs"), ("sp", "rq", "'q'"), ("sv", "2012-02-12", "older")] {
            var q = base
            q[name] = value
            #expect(throws: StorageError.self) { try StorageSAS(query: q) }
            do { _ = try StorageSAS(query: q) } catch {
                #expect(error.code == "AuthenticationFailed")
                #expect(error.message.contains(needle), "\(error.message)")
            }
        }
    }

    @Test("the time forms Azure accepts", arguments: [
        ("2030-01-02", 1_893_542_400.0), ("2030-01-02T03:04Z", 1_893_553_440), ("2030-01-02T03:04:05Z", 1_893_553_445),
        ("2030-01-02T03:04:05.1234567Z", 1_893_553_445),
    ])
    func times(text: String, seconds: Double) {
        #expect(StorageSAS.parseTime(text)?.timeIntervalSince1970 == seconds)
    }

    @Test("byte ranges", arguments: [("bytes=0-9", 100, 0..<10), ("bytes=90-", 100, 90..<100), ("bytes=0-1000", 100, 0..<100)])
    func ranges(spec: String, size: Int, expected: Range<Int>) {
        #expect(StorageAPI.byteRange(spec, size: size) == expected)
    }

    @Test("unsatisfiable ranges", arguments: ["bytes=100-", "bytes=5-4", "items=0-1", "bytes=a-b"])
    func badRanges(spec: String) {
        #expect(StorageAPI.byteRange(spec, size: 100) == nil)
    }
}
