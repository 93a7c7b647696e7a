import EdgeDaemon

/// A process's environment from /proc/PID/environ (NUL-separated KEY=VALUE), to tell this
/// device's edgeHub from any other process; readable for another user's process only by root.
public enum ProcessEnvironment {
    public static func read(pid: Int32, proc: String = "/proc") -> [String: String]? {
        FileIO.read("\(proc)/\(pid)/environ").map(parse)
    }

    public static func parse(_ bytes: [UInt8]) -> [String: String] {
        var out: [String: String] = [:]
        for entry in bytes.split(separator: 0) {
            guard let eq = entry.firstIndex(of: UInt8(ascii: "=")) else { continue }
            out[String(decoding: entry[entry.startIndex..<eq], as: UTF8.self)] = String(decoding: entry[(eq + 1)...], as: UTF8.self)
        }
        return out
    }
}
