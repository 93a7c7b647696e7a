#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `GET /systeminfo`, edgelet's `SystemInfo`: the host's OS and architecture, the daemon's
/// version and how it was provisioned.
public struct SystemInfo: Codable, Sendable, Equatable {
    public struct Provisioning: Codable, Sendable, Equatable {
        public var type: String
        public var dynamicReprovisioning: Bool
        public var alwaysReprovisionOnStartup: Bool
    }

    public var osType: String
    public var architecture: String
    public var version: String
    public var provisioning: Provisioning
    public var server_version: String
    public var kernel_version: String
    public var operating_system: String
    public var cpus: Int
    public var total_memory: Int
    public var virtualized: String

    public static func current() -> SystemInfo {
        var u = utsname()
        uname(&u)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        var osName = "Linux"
        if let release = FileIO.readText("/etc/os-release") {
            for line in release.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
                osName = String(line.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(quotes: true)
            }
        }
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        return SystemInfo(osType: field(u.sysname).lowercased(), architecture: field(u.machine),
                          version: EdgeDaemonVersion.text,
                          provisioning: Provisioning(type: "manual", dynamicReprovisioning: false, alwaysReprovisionOnStartup: false),
                          server_version: "outpost-process-runtime \(EdgeDaemonVersion.text)",
                          kernel_version: field(u.release), operating_system: osName,
                          cpus: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), total_memory: pages > 0 && pageSize > 0 ? pages * pageSize : 0,
                          virtualized: "unknown")
    }
}

extension String {
    func trimmingCharacters(quotes: Bool) -> String {
        var s = Substring(self)
        if s.hasPrefix("\""), s.hasSuffix("\""), s.count >= 2 { s = s.dropFirst().dropLast() }
        return String(s)
    }
}
