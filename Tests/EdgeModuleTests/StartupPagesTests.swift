import EdgeModule
import Foundation
import Testing

@Suite("Releasing start-up pages")
struct StartupPagesTests {
    /// Text as /proc/PID/smaps has it: the executable's text, its RELRO (read-only, relocated,
    /// so anonymous), its data, a library's text with a page a debugger wrote (a private copy), the heap
    /// and the vDSO. A library's data just written to the page cache is dirty but still the
    /// file's bytes.
    static let smaps = """
        55d0c4000000-55d0c6b02000 r-xp 00000000 fd:01 1234  /usr/bin/iotedged
        Size:              44040 kB
        Rss:               17500 kB
        Anonymous:             0 kB
        Private_Dirty:         0 kB
        55d0c6b03000-55d0c6bc7000 r--p 02b02000 fd:01 1234  /usr/bin/iotedged
        Size:                784 kB
        Rss:                 784 kB
        Anonymous:           784 kB
        Private_Dirty:       784 kB
        55d0c6bc7000-55d0c6c00000 rw-p 02bc6000 fd:01 1234  /usr/bin/iotedged
        Anonymous:           196 kB
        7f1a00000000-7f1a00400000 r-xp 00000000 fd:01 99  /opt/swift/lib/libswiftCore.so
        Rss:                4928 kB
        Private_Dirty:         4 kB
        Anonymous:             4 kB
        7f1a00400000-7f1a00500000 r--p 00400000 fd:01 99  /opt/swift/lib/libswiftCore.so
        Rss:                 120 kB
        Private_Dirty:       120 kB
        Anonymous:             0 kB
        55d0c8000000-55d0c8100000 rw-p 00000000 00:00 0  [heap]
        Anonymous:          1024 kB
        7ffd1000000-7ffd1002000 r-xp 00000000 00:00 0  [vdso]
        Anonymous:             0 kB
        """

    @Test("only clean, read-only file mappings are released: not RELRO, data, written pages, heap or vDSO")
    func picksCleanFileMappings() {
        let ranges = StartupPages.cleanFileRanges(smaps: Self.smaps)
        #expect(ranges == [
            .init(start: 0x55d0c4000000, count: 0x2b02000),
            .init(start: 0x7f1a00400000, count: 0x100000),
        ])
    }

    static func fileResidentKiB() throws -> Int {
        let text = try String(contentsOfFile: "/proc/self/smaps_rollup", encoding: .utf8)
        func field(_ name: String) -> Int {
            text.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true)[1]) } ?? 0
        }
        return field("Rss") - field("Anonymous")
    }

    @Test("releasing unmaps this process's file pages, and the process goes on running from them")
    func releasesAndKeepsRunning() throws {
        let before = try Self.fileResidentKiB()
        let released = StartupPages.releaseNow()
        let after = try Self.fileResidentKiB()
        #expect(released > 0)
        #expect(after < before)
        // Code and read-only data come back from the page cache as they are used.
        let sorted = (0..<10_000).map { ($0 * 7919) % 10_007 }.sorted()
        #expect(sorted.first == 0)
        #expect(String(describing: Date(timeIntervalSince1970: 0)).hasPrefix("1970-01-01"))
    }

    @Test("OUTPOST_STARTUP_PAGES takes seconds or keep; anything else is named in a warning")
    func variable() {
        #expect(StartupPages.schedule(environment: ["OUTPOST_STARTUP_PAGES": "keep"]) == nil)
        #expect(StartupPages.schedule(environment: ["OUTPOST_STARTUP_PAGES": "3600"]) == nil)
        let warning = StartupPages.schedule(environment: ["OUTPOST_STARTUP_PAGES": "soon"])
        #expect(warning?.contains("OUTPOST_STARTUP_PAGES=soon") == true)
        #expect(warning?.contains("keep") == true)
    }
}
