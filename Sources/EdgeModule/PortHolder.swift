#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Who holds a TCP port: the listening socket in `/proc/net/tcp` and `tcp6`, the process whose
/// `/proc/PID/fd` points at that socket's inode, and its command line. Seed 000's "Edge Hub
/// fails to start … port is already allocated" says "find and stop the process that is using
/// port 443"; `iotedge check` and edgeHub name it instead of leaving that to the user.
///
/// The parsing is pure (tested on captured text); `holders(port:addresses:)` reads /proc.
/// Another user's process is only found when running as root, as with `ss -p`.
public enum PortHolder {
    /// One line of `/proc/net/tcp{,6}`.
    public struct Socket: Equatable, Sendable {
        /// 4 bytes (IPv4) or 16 (IPv6), in network order.
        public var address: [UInt8]
        public var port: Int
        /// The kernel's TCP state; 0x0A is LISTEN.
        public var state: UInt8
        public var inode: UInt64

        public init(address: [UInt8], port: Int, state: UInt8, inode: UInt64) {
            self.address = address
            self.port = port
            self.state = state
            self.inode = inode
        }

        public var isListening: Bool { state == 0x0A }
    }

    /// A process that listens on the port.
    public struct Holder: Equatable, Sendable {
        public var pid: Int32
        /// Its arguments joined by spaces; empty for a kernel thread or a process that is gone.
        public var commandLine: String
        public var socket: Socket

        public init(pid: Int32, commandLine: String, socket: Socket) {
            self.pid = pid
            self.commandLine = commandLine
            self.socket = socket
        }
    }

    /// What was found: the processes, and listening sockets whose process is not visible
    /// (another user's, when not root).
    public struct Finding: Equatable, Sendable {
        public var holders: [Holder]
        public var unattributed: [Socket]
        public var isFree: Bool { holders.isEmpty && unattributed.isEmpty }

        public init(holders: [Holder], unattributed: [Socket]) {
            self.holders = holders
            self.unattributed = unattributed
        }
    }

    // MARK: parsing

    /// The sockets of a `/proc/net/tcp` or `/proc/net/tcp6` text; malformed lines are skipped.
    public static func parseTCPTable(_ text: String) -> [Socket] {
        var out: [Socket] = []
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode …
            guard fields.count >= 10 else { continue }
            let local = fields[1].split(separator: ":")
            guard local.count == 2, let address = parseHexAddress(String(local[0])),
                  let port = Int(local[1], radix: 16), let state = UInt8(fields[3], radix: 16),
                  let inode = UInt64(fields[9]) else { continue }
            out.append(Socket(address: address, port: port, state: state, inode: inode))
        }
        return out
    }

    /// The kernel writes an address as 32-bit words in host order (little-endian on the
    /// machines Outpost runs on): `0100007F` is 127.0.0.1.
    public static func parseHexAddress(_ hex: String) -> [UInt8]? {
        guard hex.count == 8 || hex.count == 32 else { return nil }
        var bytes: [UInt8] = []
        var rest = Substring(hex)
        while !rest.isEmpty {
            guard let word = UInt32(rest.prefix(8), radix: 16) else { return nil }
            rest = rest.dropFirst(8)
            // The word's bytes as they sit in the kernel's memory are the address's bytes.
            let memory = isLittleEndian ? word : word.byteSwapped
            bytes += [UInt8(memory & 0xFF), UInt8(memory >> 8 & 0xFF), UInt8(memory >> 16 & 0xFF), UInt8(memory >> 24)]
        }
        return bytes
    }

    private static var isLittleEndian: Bool { 1.littleEndian == 1 }

    /// The inode of a `/proc/PID/fd/N` link target `socket:[12345]`, else nil.
    public static func socketInode(linkTarget: String) -> UInt64? {
        guard linkTarget.hasPrefix("socket:["), linkTarget.hasSuffix("]") else { return nil }
        return UInt64(linkTarget.dropFirst("socket:[".count).dropLast())
    }

    /// `/proc/PID/cmdline` (arguments separated by NUL) as one line.
    public static func commandLine(_ bytes: [UInt8]) -> String {
        bytes.split(separator: 0, omittingEmptySubsequences: true)
            .map { String(decoding: $0, as: UTF8.self) }
            .joined(separator: " ")
    }

    /// Whether a listener bound to `bound` stops a bind to `wanted` on the same port: the same
    /// address, or either is a wildcard (0.0.0.0 or ::, which on Linux also covers IPv4).
    /// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) counts as its IPv4 address.
    public static func conflicts(bound: [UInt8], wanted: [UInt8]) -> Bool {
        let a = unmapped(bound), b = unmapped(wanted)
        if a.allSatisfy({ $0 == 0 }) || b.allSatisfy({ $0 == 0 }) { return true }
        return a == b
    }

    static func unmapped(_ address: [UInt8]) -> [UInt8] {
        if address.count == 16, address[0..<10].allSatisfy({ $0 == 0 }), address[10] == 0xFF, address[11] == 0xFF {
            return Array(address[12...])
        }
        return address
    }

    /// The listening sockets on `port` that stop a bind to any of `addresses` (all addresses
    /// when `addresses` is empty).
    public static func listeners(on port: Int, blocking addresses: [[UInt8]], in sockets: [Socket]) -> [Socket] {
        sockets.filter { s in
            s.isListening && s.port == port
                && (addresses.isEmpty || addresses.contains { conflicts(bound: s.address, wanted: $0) })
        }
    }

    /// "127.0.0.1", "::1", "[::]" style text for messages.
    public static func format(_ address: [UInt8]) -> String {
        let a = unmapped(address)
        if a.count == 4 { return a.map(String.init).joined(separator: ".") }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var raw = in6_addr()
        withUnsafeMutableBytes(of: &raw) { dst in for (i, b) in a.enumerated() where i < 16 { dst[i] = b } }
        guard inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(cString: buffer)
    }

    // MARK: reading /proc

    /// The processes listening on `port` where a bind to one of `addresses` would collide.
    public static func find(port: Int, addresses: [[UInt8]], proc: String = "/proc") -> Finding {
        var sockets: [Socket] = []
        for table in ["net/tcp", "net/tcp6"] {
            if let text = ProcFile.text("\(proc)/\(table)") { sockets += parseTCPTable(text) }
        }
        let wanted = listeners(on: port, blocking: addresses, in: sockets)
        guard !wanted.isEmpty else { return Finding(holders: [], unattributed: []) }
        let owners = socketOwners(inodes: Set(wanted.map(\.inode)), proc: proc)
        var holders: [Holder] = [], unattributed: [Socket] = []
        for socket in wanted {
            let pids = owners[socket.inode] ?? []
            if pids.isEmpty { unattributed.append(socket) }
            for pid in pids.sorted() {
                let cmd = ProcFile.bytes("\(proc)/\(pid)/cmdline").map(commandLine) ?? ""
                holders.append(Holder(pid: pid, commandLine: cmd, socket: socket))
            }
        }
        return Finding(holders: holders, unattributed: unattributed)
    }

    /// For each inode, the pids with a descriptor on it (a socket can be shared after fork).
    static func socketOwners(inodes: Set<UInt64>, proc: String) -> [UInt64: [Int32]] {
        var out: [UInt64: [Int32]] = [:]
        for pid in listDirectory(proc).compactMap(Int32.init) {
            let fdDirectory = "\(proc)/\(pid)/fd"
            for fd in listDirectory(fdDirectory) {
                guard let target = ProcFile.link("\(fdDirectory)/\(fd)"), let inode = socketInode(linkTarget: target),
                      inodes.contains(inode) else { continue }
                if !(out[inode]?.contains(pid) ?? false) { out[inode, default: []].append(pid) }
            }
        }
        return out
    }

    static func listDirectory(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
