import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Gives back what a long-running edge process touched only while it started. Starting maps
/// pages of the executable and the shared libraries that are never run again (config parsing,
/// certificate generation, migrations, every fault's 64 KiB of neighbours), and they stay
/// resident: idle, the runtime's three processes had 128 MB resident of which 30 MB were used
/// in 10 s (BENCHMARKS.md). Clean read-only file pages can be unmapped at no risk (they are
/// the file's bytes; a page needed again is mapped back from the page cache, a minor fault),
/// and glibc can return its freed heap. Anonymous and written pages are never touched.
public enum StartupPages {
    /// The variable that sets when: seconds after start (default 20), or `keep` for never
    /// (to measure the difference, as bench/edge_memory.py does).
    public static let variable = "OUTPOST_STARTUP_PAGES"
    public static let defaultDelay: Duration = .seconds(20)

    /// Schedules the release as `OUTPOST_STARTUP_PAGES` in `environment` says; returns a
    /// warning for the log when its value means nothing (the default applies then).
    @discardableResult
    public static func schedule(environment: [String: String]) -> String? {
        guard let text = environment[variable]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
            release(after: defaultDelay)
            return nil
        }
        if text.lowercased() == "keep" { return nil }
        guard let seconds = Int(text), seconds >= 0 else {
            release(after: defaultDelay)
            return "\(variable)=\(text) is not a number of seconds or \"keep\"; start-up pages are released after \(defaultDelay.components.seconds) s"
        }
        release(after: .seconds(seconds))
        return nil
    }

    /// Once, `delay` after the call. A task rather than a thread of its own: a new thread would
    /// get a malloc arena and a stack that stay after it ends (0.2–0.5 MB more anonymous memory
    /// per process, measured).
    public static func release(after delay: Duration = defaultDelay) {
        Task.detached(priority: .background) {
            try? await Task.sleep(for: delay)
            releaseNow()
        }
    }

    /// Unmaps this process's clean read-only file pages and trims the heap; returns the bytes
    /// of the ranges it unmapped (0 where /proc/self/smaps cannot be read).
    @discardableResult
    public static func releaseNow() -> Int {
        guard let smaps = ProcFile.text("/proc/self/smaps") else { return 0 }
        var released = 0
        for range in cleanFileRanges(smaps: smaps) {
            #if canImport(Glibc)
            if madvise(UnsafeMutableRawPointer(bitPattern: range.start), range.count, MADV_DONTNEED) == 0 {
                released += range.count
            }
            #endif
        }
        #if canImport(Glibc)
        _ = mallocTrim(0)
        #endif
        return released
    }

    public struct AddressRange: Equatable, Sendable {
        public var start: UInt
        public var count: Int
        public init(start: UInt, count: Int) {
            self.start = start
            self.count = count
        }
    }

    /// The mappings of `/proc/PID/smaps` text that are safe to unmap: backed by a file, not
    /// writable, and holding no anonymous page. The last rule keeps RELRO (`.data.rel.ro`, the
    /// GOT): read-only after the loader relocated it, its pages are private copies, and
    /// dropping them would bring back the file's unrelocated bytes.
    public static func cleanFileRanges(smaps: String) -> [AddressRange] {
        var ranges: [AddressRange] = []
        var candidate: AddressRange?
        func finish() {
            if let candidate { ranges.append(candidate) }
            candidate = nil
        }
        for line in smaps.split(separator: "\n", omittingEmptySubsequences: true) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if first.hasSuffix(":") {
                // "Anonymous:   12 kB": a page written in this mapping (a private copy) disqualifies
                // it. Dirty page-cache pages (a binary just built) are the file's bytes, and stay safe.
                if first == "Anonymous:", fields.count > 1, fields[1] != "0" {
                    candidate = nil
                }
                continue
            }
            // A mapping: "start-end perms offset dev inode [path]".
            finish()
            guard fields.count >= 6, fields[5].hasPrefix("/"), fields[1].count == 4 else { continue }
            let perms = Array(fields[1].utf8)
            guard perms[0] == UInt8(ascii: "r"), perms[1] == UInt8(ascii: "-") else { continue }
            let bounds = first.split(separator: "-")
            guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16),
                  end > start else { continue }
            candidate = AddressRange(start: start, count: Int(end - start))
        }
        finish()
        return ranges
    }
}

#if canImport(Glibc)
/// glibc's `malloc_trim` (from malloc.h, which the Glibc module does not export).
@_silgen_name("malloc_trim")
private func mallocTrim(_ pad: Int) -> Int32
#endif
