#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `systeminfo.json` of a support bundle: what the management API's `/systeminfo` says, plus
/// the facts a person asks for first when a device misbehaves: free memory, the disk of the
/// data directory, how long the host has been up, and which versions run.
public struct HostFacts: Codable, Sendable {
    public struct Memory: Codable, Sendable {
        public var totalBytes: Int?
        public var availableBytes: Int?
        public var swapTotalBytes: Int?
        public var swapFreeBytes: Int?
    }

    public struct Disk: Codable, Sendable {
        public var path: String
        public var totalBytes: Int?
        public var availableBytes: Int?
        /// Why the figures are missing (the directory does not exist, say).
        public var error: String?
    }

    public struct Versions: Codable, Sendable {
        public var iotedge: String
        /// The running daemon's, when it answered.
        public var iotedged: String?
    }

    public var hostname: String
    public var system: SystemInfo
    public var memory: Memory
    public var dataDirectoryDisk: Disk
    public var hostUptimeSeconds: Double?
    public var loadAverage: [Double]?
    public var versions: Versions
    /// The daemon's pid and start time, when it answered.
    public var daemon: DaemonFacts?

    public struct DaemonFacts: Codable, Sendable {
        public var pid: Int32
        public var startTime: String
        public var uptimeSeconds: Double
        public var logLevel: String
    }

    public static func collect(dataDirectory: String, daemon: SystemStatus?) -> HostFacts {
        HostFacts(hostname: EdgePaths.systemHostname(), system: .current(), memory: memory(),
                  dataDirectoryDisk: disk(dataDirectory), hostUptimeSeconds: uptime(), loadAverage: loadAverage(),
                  versions: Versions(iotedge: EdgeDaemonVersion.text, iotedged: daemon?.version),
                  daemon: daemon.map {
                      DaemonFacts(pid: $0.pid, startTime: RFC3339.format($0.startTime, fractionDigits: 0),
                                  uptimeSeconds: (RFC3339.now() - $0.startTime).rounded(), logLevel: $0.logLevel)
                  })
    }

    /// `/proc/meminfo`'s MemTotal, MemAvailable, SwapTotal and SwapFree (in kB there).
    static func memory(meminfo: String? = FileIO.readText("/proc/meminfo")) -> Memory {
        var values: [String: Int] = [:]
        for line in (meminfo ?? "").split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == ":" || $0 == " " })
            if parts.count >= 2, let kb = Int(parts[1]) { values[String(parts[0])] = kb * 1024 }
        }
        return Memory(totalBytes: values["MemTotal"], availableBytes: values["MemAvailable"],
                      swapTotalBytes: values["SwapTotal"], swapFreeBytes: values["SwapFree"])
    }

    static func disk(_ path: String) -> Disk {
        var st = statvfs()
        guard statvfs(path, &st) == 0 else {
            return Disk(path: path, error: "statvfs \(path): \(String(cString: strerror(errno)))")
        }
        let block = Int(st.f_frsize)
        return Disk(path: path, totalBytes: Int(st.f_blocks) * block, availableBytes: Int(st.f_bavail) * block)
    }

    static func uptime() -> Double? {
        FileIO.readText("/proc/uptime")?.split(separator: " ").first.flatMap { Double($0) }
    }

    static func loadAverage() -> [Double]? {
        guard let text = FileIO.readText("/proc/loadavg") else { return nil }
        let values = text.split(separator: " ").prefix(3).compactMap { Double($0) }
        return values.count == 3 ? values : nil
    }
}
