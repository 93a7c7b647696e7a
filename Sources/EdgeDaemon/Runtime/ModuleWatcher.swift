import COutpostLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One thread, one epoll set, for every module's output and exit. Each module used to hold two
/// blocking threads of the daemon (one in `read` on its output, one in `waitpid`): 12 of the
/// daemon's 18 threads with six modules, each with its stack and, past the first few, its own
/// malloc arena (BENCHMARKS.md). A module's exit is watched through a pidfd (Linux 5.3), which
/// epoll reports readable when the process ends; the status is then reaped with `waitpid` of
/// that pid alone, so children the daemon starts by other means are left to their owners.
final class ModuleWatcher: @unchecked Sendable {
    static let shared = ModuleWatcher()

    private enum Watch {
        case output(OutputLines)
        case exit(pid: pid_t, done: @Sendable (Int32?) -> Void)
    }

    private let lock = NSLock()
    private var watches: [Int32: Watch] = [:]
    private let epoll: Int32
    private var started = false

    private init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
    }

    /// Reads `fd` until every writer has closed it, writing each line to `log` with the time it
    /// was read; closes `fd` then.
    func captureOutput(fd: Int32, into log: RotatingLogFile) {
        // Non-blocking: a wake-up reported for a descriptor number that has since been closed
        // and reused must not leave the thread stuck in read.
        let flags = fcntl(fd, F_GETFL)
        guard epoll >= 0, flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0,
              add(fd, .output(OutputLines(log: log))) else {
            if flags >= 0 { _ = fcntl(fd, F_SETFL, flags) }
            Self.captureBlocking(fd: fd, into: log)
            return
        }
    }

    /// Calls `done` with `pid`'s wait status once it has exited and been reaped (nil if another
    /// waiter reaped it first). Where pidfds are missing, a thread of its own waits instead.
    func watchExit(pid: pid_t, _ done: @escaping @Sendable (Int32?) -> Void) {
        let pidfd = outpost_pidfd_open(pid)
        guard epoll >= 0, pidfd >= 0 else {
            BlockingThread.start { done(Self.reap(pid)) }
            return
        }
        _ = fcntl(pidfd, F_SETFD, FD_CLOEXEC)
        if !add(pidfd, .exit(pid: pid, done: done)) {
            close(pidfd)
            BlockingThread.start { done(Self.reap(pid)) }
        }
    }

    private func add(_ fd: Int32, _ watch: Watch) -> Bool {
        lock.lock()
        watches[fd] = watch
        let startNow = !started
        started = true
        lock.unlock()
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue
        event.data.fd = fd
        guard epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0 else {
            lock.lock()
            watches[fd] = nil
            lock.unlock()
            return false
        }
        if startNow { BlockingThread.start { [self] in run() } }
        return true
    }

    private func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 32)
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = events.withUnsafeMutableBufferPointer { epoll_wait(epoll, $0.baseAddress, Int32($0.count), -1) }
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            for event in events[0..<Int(n)] {
                let fd = event.data.fd
                lock.lock()
                let watch = watches[fd]
                lock.unlock()
                switch watch {
                case .output(let lines):
                    // Level-triggered: one read a wake-up, so no module's output starves another's.
                    let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if count < 0, errno == EINTR || errno == EAGAIN { continue }
                    if count > 0 {
                        lines.take(buffer[0..<count])
                    } else {
                        lines.finish()
                        forget(fd)
                    }
                case .exit(let pid, let done):
                    var status: Int32 = 0
                    let rc = waitpid(pid, &status, WNOHANG)
                    if rc == 0 { continue }  // not ended yet: a wake-up for an earlier descriptor
                    forget(fd)
                    done(rc == pid ? status : nil)
                case nil:
                    continue
                }
            }
        }
    }

    private func forget(_ fd: Int32) {
        _ = epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nil)
        lock.lock()
        watches[fd] = nil
        lock.unlock()
        close(fd)
    }

    /// The wait status of `pid`, waiting for it; nil when it was not ours to reap.
    private static func reap(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        var rc: pid_t
        repeat { rc = waitpid(pid, &status, 0) } while rc < 0 && errno == EINTR
        return rc == pid ? status : nil
    }

    /// Where epoll cannot be had: the module's output read on a thread of its own.
    private static func captureBlocking(fd: Int32, into log: RotatingLogFile) {
        BlockingThread.start {
            defer { close(fd) }
            let lines = OutputLines(log: log)
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { break }
                lines.take(buffer[0..<n])
            }
            lines.finish()
        }
    }
}

/// A module's output cut into lines, each written to its log with the time it was read; a line
/// longer than 16 KiB is cut there.
final class OutputLines: @unchecked Sendable {
    private let log: RotatingLogFile
    private var line: [UInt8] = []
    private static let maxLine = 16 * 1024

    init(log: RotatingLogFile) { self.log = log }

    func take(_ bytes: ArraySlice<UInt8>) {
        var out: [UInt8] = []
        let stamp = Array(RFC3339.format(RFC3339.now()).utf8) + [UInt8(ascii: " ")]
        for b in bytes {
            if b == UInt8(ascii: "\n") || line.count >= Self.maxLine {
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                out += stamp
                out += line
                out.append(UInt8(ascii: "\n"))
                line.removeAll(keepingCapacity: true)
                if b == UInt8(ascii: "\n") { continue }
            }
            line.append(b)
        }
        if !out.isEmpty { log.write(out) }
    }

    /// The writers are gone: what is left of a last line without its newline.
    func finish() {
        if !line.isEmpty { log.write(line: String(decoding: line, as: UTF8.self)) }
        line = []
    }
}
