#if canImport(Glibc)
import Glibc
#endif
import EdgeDaemon

/// Name resolution as the runtime does it (getaddrinfo: /etc/hosts, then DNS).
public enum Resolver {
    /// The addresses of `host` (an IP literal resolves to itself), 4 or 16 bytes each, or why not.
    public static func resolve(_ host: String) -> Result<[[UInt8]], ProbeError> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, nil, &hints, &list)
        guard rc == 0, let first = list else {
            return .failure(ProbeError("cannot resolve \(host): \(String(cString: gai_strerror(rc)))"))
        }
        defer { freeaddrinfo(first) }
        var out: [[UInt8]] = []
        var p: UnsafeMutablePointer<addrinfo>? = first
        while let info = p {
            if let sa = info.pointee.ai_addr {
                if info.pointee.ai_family == AF_INET {
                    let a = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                    out.append(withUnsafeBytes(of: a) { Array($0) })
                } else if info.pointee.ai_family == AF_INET6 {
                    let a = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                    out.append(withUnsafeBytes(of: a) { Array($0) })
                }
            }
            p = info.pointee.ai_next
        }
        var unique: [[UInt8]] = []
        for a in out where !unique.contains(a) { unique.append(a) }
        return unique.isEmpty ? .failure(ProbeError("\(host) has no IPv4 or IPv6 address")) : .success(unique)
    }
}
