#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers

/// An append-only log file that rotates by size: `name.log` is written; when it would pass
/// `maxBytes` it becomes `name.log.1`, the old `.1` becomes `.2`, and so on up to `maxFiles`
/// files in all (10 MiB × 3 by default, what `iotedge check`'s log-rotation check asks Docker
/// for). Each line is prefixed with its RFC 3339 time, so that `logs --since/--until` can
/// filter without any other index. Safe to use from several threads.
public final class RotatingLogFile: @unchecked Sendable {
    public let path: String
    public let maxBytes: Int
    public let maxFiles: Int
    private let lock = NIOLock()
    private var fd: Int32 = -1
    private var size = 0

    public init(path: String, maxBytes: Int = 10 << 20, maxFiles: Int = 3) {
        self.path = path
        self.maxBytes = max(1024, maxBytes)
        self.maxFiles = max(1, maxFiles)
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    /// The files from oldest to newest (`name.log.2`, `name.log.1`, `name.log`) that exist.
    public static func files(of path: String, maxFiles: Int = 3) -> [String] {
        var out: [String] = []
        for i in stride(from: maxFiles - 1, through: 1, by: -1) where FileIO.exists("\(path).\(i)") {
            out.append("\(path).\(i)")
        }
        if FileIO.exists(path) { out.append(path) }
        return out
    }

    /// Writes one line (without its newline) stamped with `time` (seconds since 1970).
    public func write(line: some StringProtocol, time: Double = RFC3339.now()) {
        var bytes = Array(RFC3339.format(time).utf8)
        bytes.append(UInt8(ascii: " "))
        bytes.append(contentsOf: line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        write(bytes)
    }

    /// Writes bytes that already are whole stamped lines.
    public func write(_ bytes: [UInt8]) {
        lock.withLock {
            if fd < 0 { openFile() }
            if size > 0, size + bytes.count > maxBytes { rotate() }
            guard fd >= 0 else { return }
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
                if n < 0 { if errno == EINTR { continue }; return }
                offset += n
            }
            size += bytes.count
        }
    }

    public func close() {
        lock.withLock {
            if fd >= 0 { Glibc.close(fd); fd = -1 }
        }
    }

    private func openFile() {
        try? FileIO.makeDirectories(FileIO.dirname(of: path))
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        size = FileIO.size(path) ?? 0
    }

    private func rotate() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
        if maxFiles == 1 {
            unlink(path)
        } else {
            unlink("\(path).\(maxFiles - 1)")
            for i in stride(from: maxFiles - 2, through: 1, by: -1) {
                rename("\(path).\(i)", "\(path).\(i + 1)")
            }
            rename(path, "\(path).1")
        }
        openFile()
    }
}
