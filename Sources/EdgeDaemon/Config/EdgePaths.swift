#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the daemon looks for its config and keeps its data when the config does not say
/// (DESIGN.md "Paths and configuration"): `/etc/outpost/config.toml` and `/var/lib/outpost`
/// for root, `~/.outpost/edge/config.toml` and `~/.outpost/edge` for anyone else.
public enum EdgePaths {
    public static var isRoot: Bool { geteuid() == 0 }

    public static var home: String {
        if let h = getenv("HOME"), h.pointee != 0 { return String(cString: h) }
        if let pw = getpwuid(geteuid()), let dir = pw.pointee.pw_dir { return String(cString: dir) }
        return "/tmp"
    }

    public static func defaultConfigFile(root: Bool = isRoot) -> String {
        root ? "/etc/outpost/config.toml" : FileIO.join(home, ".outpost/edge/config.toml")
    }

    public static func defaultHomeDirectory(root: Bool = isRoot) -> String {
        root ? "/var/lib/outpost" : FileIO.join(home, ".outpost/edge")
    }

    /// The machine's host name, the default for `hostname` as in edgelet.
    public static func systemHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "" }
        return String(cString: buffer)
    }
}
