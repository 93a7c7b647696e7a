#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers

/// The measured server's memory from /proc: resident set (VmRSS) and proportional set size
/// (Pss in smaps_rollup, which charges shared library pages once across processes).
struct ServerMemory: Equatable {
    var rssKiB: Int
    var pssKiB: Int

    static func read(pid: Int32) -> ServerMemory? {
        guard let status = readFile("/proc/\(pid)/status"), let rss = field("VmRSS:", in: status) else { return nil }
        let pss = readFile("/proc/\(pid)/smaps_rollup").flatMap { field("Pss:", in: $0) } ?? rss
        return ServerMemory(rssKiB: rss, pssKiB: pss)
    }

    private static func field(_ name: String, in text: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            return Int(line.dropFirst(name.count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
        }
        return nil
    }

    private static func readFile(_ path: String) -> String? {
        guard let f = fopen(path, "r") else { return nil }
        defer { fclose(f) }
        var out = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n <= 0 { break }
            out.append(contentsOf: chunk[..<n])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Samples the server's memory once a second in the background and keeps the peak.
final class MemorySampler: @unchecked Sendable {
    let pid: Int32?
    private let lock = NIOLock()
    private var peak: ServerMemory?
    private var task: Task<Void, Never>?

    init(pid: Int32?) { self.pid = pid }

    func sample() -> ServerMemory? {
        guard let pid, let m = ServerMemory.read(pid: pid) else { return nil }
        lock.withLock {
            if let p = peak { peak = ServerMemory(rssKiB: max(p.rssKiB, m.rssKiB), pssKiB: max(p.pssKiB, m.pssKiB)) } else { peak = m }
        }
        return m
    }

    func start() {
        guard pid != nil else { return }
        task = Task { [weak self] in
            while !Task.isCancelled {
                _ = self?.sample()
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    func stop() -> ServerMemory? {
        task?.cancel()
        _ = sample()
        return lock.withLock { peak }
    }
}
