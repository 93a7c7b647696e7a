#if canImport(Glibc)
import Glibc
#endif
import EdgeDaemon
import Foundation

/// Facts about the host the production checks read: /proc/meminfo, /proc/mounts, statvfs and
/// /etc/os-release. Parsing is separate from reading, so it is tested on captured text.
public enum SystemFacts {
    /// `MemTotal` of /proc/meminfo, in bytes.
    public static func memTotal(meminfo: String) -> UInt64? {
        for line in meminfo.split(separator: "\n") where line.hasPrefix("MemTotal:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kib = UInt64(fields[1]) else { return nil }
            return kib * 1024
        }
        return nil
    }

    public struct Mount: Equatable, Sendable {
        public var device: String
        public var mountPoint: String
        public var type: String
    }

    /// The lines of /proc/mounts; the kernel writes a space in a path as \040.
    public static func mounts(_ text: String) -> [Mount] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 3 else { return nil }
            return Mount(device: String(f[0]), mountPoint: unescape(String(f[1])), type: String(f[2]))
        }
    }

    static func unescape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\040", with: " ").replacingOccurrences(of: "\\011", with: "\t")
            .replacingOccurrences(of: "\\012", with: "\n").replacingOccurrences(of: "\\134", with: "\\")
    }

    /// The mount a path lives on: the longest mount point that is a prefix of it (the last
    /// listed wins, as a later mount hides an earlier one on the same point).
    public static func mount(of path: String, in mounts: [Mount]) -> Mount? {
        var best: Mount?
        for m in mounts {
            let point = m.mountPoint
            let inside = point == "/" || path == point || path.hasPrefix(point.hasSuffix("/") ? point : point + "/")
            if inside, point.count >= (best?.mountPoint.count ?? -1) { best = m }
        }
        return best
    }

    /// File systems whose contents are gone after a reboot.
    public static let volatileTypes: Set<String> = ["tmpfs", "ramfs", "devtmpfs"]

    public struct Space: Equatable, Sendable {
        public var available: UInt64
        public var total: UInt64
        public var fraction: Double { total == 0 ? 0 : Double(available) / Double(total) }
    }

    /// statvfs of the nearest existing directory at or above `path`.
    public static func space(at path: String) -> (path: String, space: Space)? {
        var p = path
        while true {
            var s = statvfs()
            if statvfs(p, &s) == 0 {
                let unit = UInt64(s.f_frsize == 0 ? s.f_bsize : s.f_frsize)
                return (p, Space(available: UInt64(s.f_bavail) * unit, total: UInt64(s.f_blocks) * unit))
            }
            guard p != "/" else { return nil }
            p = FileIO.dirname(of: p)
        }
    }

    /// PRETTY_NAME of /etc/os-release.
    public static func osRelease(_ path: String = "/etc/os-release") -> String? {
        guard let text = FileIO.readText(path) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            return String(line.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(in: ["\""])
        }
        return nil
    }

    /// "1.5 GiB", "300 MiB".
    public static func bytes(_ n: UInt64) -> String {
        let gib = Double(n) / Double(1 << 30)
        if gib >= 1 { return "\((gib * 10).rounded() / 10) GiB" }
        return "\(n >> 20) MiB"
    }
}
