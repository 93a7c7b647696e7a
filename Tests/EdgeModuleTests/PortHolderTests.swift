#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import EdgeModule

@Suite("PortHolder")
struct PortHolderTests {
    // Captured from a machine with a hub on 127.0.0.41 (8883, 9464, 443), sshd on 0.0.0.0:2024,
    // an established connection, and IPv6 listeners on [::]:443 and [::1]:8883.
    static let tcp = """
      sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
       0: 2900877F:22B3 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1898409 1 00000000e046a710 100 0 0 10 0
       1: 2900877F:24F8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1898407 1 0000000009bad9c6 100 0 0 10 0
       2: 2900877F:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1898411 1 00000000b20137ed 100 0 0 10 0
       3: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1065 1 000000002395da80 100 0 0 10 0
       4: 0100007F:C350 2900877F:01BB 01 00000000:00000000 00:00000000 00000000     0        0 2000001 1 0000000000000000 20 4 30 10 -1
      garbage line
    """
    static let tcp6 = """
      sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
       0: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3000001 1 0000000000000000 100 0 0 10 0
       1: 00000000000000000000000001000000:22B3 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3000002 1 0000000000000000 100 0 0 10 0
    """

    @Test func parsesIPv4Lines() {
        let sockets = PortHolder.parseTCPTable(Self.tcp)
        #expect(sockets.count == 5)
        #expect(sockets[0] == PortHolder.Socket(address: [127, 135, 0, 41], port: 8883, state: 0x0A, inode: 1898409))
        #expect(sockets[3].address == [0, 0, 0, 0] && sockets[3].port == 2024)
        #expect(!sockets[4].isListening && sockets[4].port == 50000)
    }

    @Test func parsesIPv6Lines() {
        let sockets = PortHolder.parseTCPTable(Self.tcp6)
        #expect(sockets.count == 2)
        #expect(sockets[0].address == [UInt8](repeating: 0, count: 16) && sockets[0].port == 443)
        #expect(sockets[1].address == [UInt8](repeating: 0, count: 15) + [1])
        #expect(PortHolder.format(sockets[1].address) == "::1")
    }

    @Test func rejectsMalformedAddresses() {
        #expect(PortHolder.parseHexAddress("0100007") == nil)
        #expect(PortHolder.parseHexAddress("ZZ00007F") == nil)
        #expect(PortHolder.parseHexAddress("0100007F") == [127, 0, 0, 1])
    }

    @Test func findsOnlyListenersThatBlockTheWantedAddress() {
        let sockets = PortHolder.parseTCPTable(Self.tcp) + PortHolder.parseTCPTable(Self.tcp6)
        // 127.135.0.41:443 is taken by the hub's listener and by the IPv6 wildcard.
        let on443 = PortHolder.listeners(on: 443, blocking: [[127, 135, 0, 41]], in: sockets)
        #expect(on443.map(\.inode) == [1898411, 3000001])
        // Another loopback address only meets the wildcard.
        #expect(PortHolder.listeners(on: 443, blocking: [[127, 0, 0, 9]], in: sockets).map(\.inode) == [3000001])
        // The established connection from port 50000 is no listener.
        #expect(PortHolder.listeners(on: 50000, blocking: [], in: sockets).isEmpty)
        // 8883 on ::1 is the IPv6 listener only, not the hub's IPv4 one.
        #expect(PortHolder.listeners(on: 8883, blocking: [[UInt8](repeating: 0, count: 15) + [1]], in: sockets).map(\.inode) == [3000002])
    }

    @Test func mappedAddressesCountAsIPv4() {
        let mapped: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 10, 0, 0, 7]
        #expect(PortHolder.conflicts(bound: mapped, wanted: [10, 0, 0, 7]))
        #expect(!PortHolder.conflicts(bound: mapped, wanted: [10, 0, 0, 8]))
        #expect(PortHolder.format(mapped) == "10.0.0.7")
    }

    @Test func socketLinksAndCommandLines() {
        #expect(PortHolder.socketInode(linkTarget: "socket:[1898411]") == 1898411)
        #expect(PortHolder.socketInode(linkTarget: "pipe:[1898411]") == nil)
        #expect(PortHolder.socketInode(linkTarget: "/dev/null") == nil)
        #expect(PortHolder.commandLine(Array("python3\0-m\0http.server\0443\0".utf8)) == "python3 -m http.server 443")
        #expect(PortHolder.commandLine([]) == "")
    }

    @Test func findsThisProcessHoldingAListener() throws {
        // A real listener on an ephemeral loopback port, found through /proc.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(bound == 0)
        #expect(listen(fd, 1) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let finding = PortHolder.find(port: port, addresses: [[127, 0, 0, 1]])
        #expect(finding.holders.map(\.pid) == [getpid()])
        #expect(finding.holders.first?.commandLine.isEmpty == false)
        #expect(PortHolder.find(port: port, addresses: [[127, 0, 0, 2]]).isFree)
    }
}
