#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads what `RotatingLogFile` wrote, oldest file first, filtered by `LogOptions`: lines
/// before `since` or after `until` are skipped, `tail` keeps the last N (with a ring of N
/// lines, not the whole file), `timestamps` keeps the time prefix, and `follow` goes on
/// reading the current file as it grows, across rotations, until the reading task is
/// cancelled.
final class ModuleLogReader: @unchecked Sendable {
    private let path: String
    private let maxFiles: Int
    private let options: LogOptions
    private let pollInterval: UInt64
    private var pending: [String] = []
    private var pendingIndex = 0
    private var startedUp = false
    private var followFD: Int32 = -1
    private var followInode: ino_t = 0
    private var partial: [UInt8] = []

    init(path: String, maxFiles: Int = 3, options: LogOptions, pollMilliseconds: UInt64 = 200) {
        self.path = path
        self.maxFiles = maxFiles
        self.options = options
        self.pollInterval = pollMilliseconds * 1_000_000
    }

    deinit { if followFD >= 0 { close(followFD) } }

    static func lines(path: String, maxFiles: Int = 3, options: LogOptions) -> LogLines {
        LogLines {
            let reader = ModuleLogReader(path: path, maxFiles: maxFiles, options: options)
            return { await reader.next() }
        }
    }

    func next() async -> String? {
        if !startedUp {
            startedUp = true
            readExisting()
        }
        if pendingIndex < pending.count {
            defer { pendingIndex += 1 }
            return pending[pendingIndex]
        }
        pending.removeAll(keepingCapacity: true)
        pendingIndex = 0
        guard options.follow else { return nil }
        while !Task.isCancelled {
            if let until = options.until, RFC3339.now() > until { return nil }
            readNew()
            if !pending.isEmpty {
                pendingIndex = 1
                return pending[0]
            }
            try? await Task.sleep(nanoseconds: pollInterval)
        }
        return nil
    }

    /// Filters one stored line; nil when it falls outside since/until.
    private func accept(_ raw: Substring) -> String? {
        guard let space = raw.firstIndex(of: " ") else { return options.timestamps ? String(raw) : String(raw) }
        let stamp = raw[..<space]
        if options.since != nil || options.until != nil, let t = RFC3339.parse(stamp) {
            if let since = options.since, t < since { return nil }
            if let until = options.until, t > until { return nil }
        }
        return options.timestamps ? String(raw) : String(raw[raw.index(after: space)...])
    }

    private func readExisting() {
        var ring: [String] = []
        var ringStart = 0
        let limit = options.tail
        func add(_ line: String) {
            guard let limit else { pending.append(line); return }
            guard limit > 0 else { return }
            if ring.count < limit { ring.append(line) } else { ring[ringStart] = line; ringStart = (ringStart + 1) % limit }
        }
        let files = RotatingLogFile.files(of: path, maxFiles: maxFiles)
        for file in files {
            let fd = open(file, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            var carry: [UInt8] = []
            Self.readLines(fd: fd, carry: &carry) { line in if let l = accept(line) { add(l) } }
            if file == path, options.follow {
                // Keep the current file open: following goes on from where this read stopped.
                followFD = fd
                var st = stat()
                if fstat(fd, &st) == 0 { followInode = st.st_ino }
                partial = carry
            } else {
                if !carry.isEmpty, let l = accept(Substring(String(decoding: carry, as: UTF8.self))) { add(l) }
                close(fd)
            }
        }
        if limit != nil { pending = Array(ring[ringStart...] + ring[..<ringStart]) }
    }

    private func readNew() {
        if followFD < 0 {
            followFD = open(path, O_RDONLY | O_CLOEXEC)
            guard followFD >= 0 else { return }
            var st = stat()
            if fstat(followFD, &st) == 0 { followInode = st.st_ino }
        }
        Self.readLines(fd: followFD, carry: &partial) { line in if let l = accept(line) { pending.append(l) } }
        // Rotated: finish the old file (done above), then go on with the new one.
        var st = stat()
        if stat(path, &st) == 0, st.st_ino != followInode {
            close(followFD)
            followFD = -1
            partial.removeAll()
        }
    }

    /// Reads to the end of `fd`, calling `line` for every complete line; a last line without
    /// its newline stays in `carry`.
    private static func readLines(fd: Int32, carry: inout [UInt8], _ line: (Substring) -> Void) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return }
            var start = 0
            for i in 0..<n where buffer[i] == UInt8(ascii: "\n") {
                carry.append(contentsOf: buffer[start..<i])
                let text = String(decoding: carry, as: UTF8.self)
                line(Substring(text))
                carry.removeAll(keepingCapacity: true)
                start = i + 1
            }
            carry.append(contentsOf: buffer[start..<n])
        }
    }
}

/// The daemon's own log (`<homedir>/logs/iotedged.log` and its rotations), read the way
/// module logs are: what `iotedge system logs` and the support bundle show.
public enum DaemonLog {
    public static func path(logDirectory: String) -> String { FileIO.join(logDirectory, "iotedged.log") }

    public static func lines(logDirectory: String, options: LogOptions) -> LogLines {
        var options = options
        options.timestamps = true  // its lines carry their own time and level
        return ModuleLogReader.lines(path: path(logDirectory: logDirectory), options: options)
    }
}
