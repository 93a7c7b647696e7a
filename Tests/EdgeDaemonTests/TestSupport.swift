import Twin
import Foundation
import Glibc
@testable import EdgeDaemon

/// A scratch directory per test, removed at the end.
final class TempDir {
    let path: String
    init() {
        var template = Array("/tmp/edgedaemon-test-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        path = String(cString: p!)
    }
    deinit { _ = system("rm -rf '\(path)'") }
    func file(_ name: String) -> String { path + "/" + name }

    /// Writes an executable shell script.
    @discardableResult
    func script(_ name: String, _ body: String) -> String {
        let p = file(name)
        try! FileIO.write("#!/bin/sh\n" + body + "\n", to: p, mode: 0o755)
        return p
    }
}

/// An HTTP/1.1 answer read off a unix socket.
struct RawResponse {
    var status: Int
    var headers: [String: String]
    var body: String
}

/// A tiny HTTP/1.1 client over a unix socket, on a thread of its own with a receive timeout, so
/// that a broken server fails the test instead of hanging it. Requests come from this (the
/// test) process: its pid is what SO_PEERCRED shows the server.
enum UnixHTTP {
    static func request(_ socket: String, _ method: String, _ path: String, body: String? = nil,
                        timeout: Int = 10, maxLines: Int? = nil) async -> RawResponse? {
        await withCheckedContinuation { c in
            BlockingThread.start { c.resume(returning: blockingRequest(socket, method, path, body: body, timeout: timeout, maxLines: maxLines)) }
        }
    }

    static func json(_ socket: String, _ method: String, _ path: String, body: String? = nil) async -> (Int, JSONValue?) {
        guard let r = await request(socket, method, path, body: body) else { return (0, nil) }
        return (r.status, try? JSONText.decode(r.body))
    }

    /// `maxLines`: stop after that many body lines (for `follow=true`), closing the socket.
    static func blockingRequest(_ socket: String, _ method: String, _ path: String, body: String?, timeout: Int, maxLines: Int?) -> RawResponse? {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            let bytes = Array(socket.utf8)
            for (i, b) in bytes.prefix(raw.count - 1).enumerated() { raw[i] = b }
        }
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard ok == 0 else { return nil }
        var text = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        if let body { text += "Content-Length: \(body.utf8.count)\r\n\r\n\(body)" } else { text += "\r\n" }
        let out = Array(text.utf8)
        _ = out.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            received += buffer[0..<n]
            if let maxLines, let r = parse(received), r.body.split(separator: "\n").count >= maxLines { return r }
        }
        return parse(received)
    }

    static func parse(_ bytes: [UInt8]) -> RawResponse? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return nil }
        let head = text[..<split.lowerBound].split(separator: "\r\n")
        guard let statusLine = head.first, statusLine.split(separator: " ").count >= 2,
              let status = Int(statusLine.split(separator: " ")[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        var body = String(text[split.upperBound...])
        if headers["transfer-encoding"] == "chunked" { body = dechunk(body) }
        return RawResponse(status: status, headers: headers, body: body)
    }

    /// Chunked transfer coding, undone on bytes (in Swift "\r\n" is one Character).
    static func dechunk(_ s: String) -> String {
        let b = Array(s.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < b.count {
            var j = i
            while j + 1 < b.count, !(b[j] == 13 && b[j + 1] == 10) { j += 1 }
            guard j + 1 < b.count, let size = Int(String(decoding: b[i..<j], as: UTF8.self), radix: 16), size > 0 else { break }
            let start = j + 2
            let end = min(b.count, start + size)
            out += b[start..<end]
            i = end + 2
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Waits until `condition` holds, up to `seconds`.
func eventually(_ seconds: Double = 10, _ condition: () async -> Bool) async -> Bool {
    let deadline = RFC3339.now() + seconds
    while RFC3339.now() < deadline {
        if await condition() { return true }
        try? await Task.sleep(nanoseconds: 50_000_000)
    }
    return await condition()
}

func processExists(_ pid: pid_t) -> Bool {
    // A zombie still answers kill(0); /proc/PID/stat's state tells.
    guard kill(pid, 0) == 0 else { return false }
    guard let stat = FileIO.readText("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return true }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z"
}

let curlPath: String? = ["/usr/bin/curl", "/bin/curl", "/usr/local/bin/curl"].first { access($0, X_OK) == 0 }
