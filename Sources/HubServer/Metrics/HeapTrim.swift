import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// When to hand the memory of closed connections back to the system. glibc keeps freed memory
/// for reuse: after 10,000 TLS connections had closed, the hub's VmRSS stayed at 337 MB, and
/// `malloc_trim` brought it to 171 MB (BENCHMARKS.md). A trim walks the heap, so it runs only
/// after a large drop in connections, once the count has stopped falling.
struct HeapTrimPolicy {
    /// Connections that must have gone since the last trim (and at least half of the peak).
    let minimumDrop: Int
    private var peak = 0
    private var previous = 0

    init(minimumDrop: Int = 1_000) { self.minimumDrop = minimumDrop }

    /// One sample of the open connection count, about once a second; true when a trim is due.
    mutating func observe(connections: Int) -> Bool {
        defer { previous = connections }
        peak = max(peak, connections)
        let settled = connections == previous
        guard settled, peak - connections >= minimumDrop, connections <= peak / 2 else { return false }
        peak = connections
        return true
    }
}

#if canImport(Glibc)
/// glibc's `malloc_trim` (from malloc.h, which the Glibc module does not export).
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif

enum HeapTrim {
    /// Returns free heap pages to the system (glibc only); the caller runs it off the hub's
    /// event loops.
    static func run() {
        #if canImport(Glibc)
        _ = glibcMallocTrim(0)
        #endif
    }

    /// The process's resident memory, from `/proc/self/statm`; nil where there is none.
    static func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
