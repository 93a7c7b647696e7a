import Foundation
import IoTProtocol

/// What every scenario sets up: the dialer, Outpost's service client, the memory sampler, and
/// the devices (registered on Outpost; on Mosquitto any client id will do).
final class BenchSession: @unchecked Sendable {
    let target: BenchTarget
    let dialer: Dialer
    let service: ServiceClient?
    let memory: MemorySampler
    let prefix: String

    init(target: BenchTarget, scenario: String, prefix: String?) async throws {
        if let pid = target.serverPid, ServerMemory.read(pid: pid) == nil {
            throw BenchError("--server-pid \(pid): no such process, or /proc/\(pid)/status is not readable.")
        }
        self.target = target
        try Self.raiseFileLimit()
        memory = MemorySampler(pid: target.serverPid)
        self.prefix = prefix ?? "bench-\(scenario)-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
        // The HTTP client last: it must be shut down once made, and nothing after it throws.
        dialer = try Dialer(target: target, deviceKey: SymmetricKeyGenerator.make())
        service = try target.service.map { try ServiceClient($0) }
    }

    /// Device ids `{prefix}-{n}`; with SAS auth they are created in Outpost's registry first.
    func provision(_ count: Int) async throws -> [String] {
        let ids = (0..<count).map { String(format: "%@-%05d", prefix, $0) }
        if target.auth == .sas {
            guard let service else { throw BenchError("--auth sas needs --data-dir or --login.") }
            try await service.createDevices(ids, key: dialer.deviceKey)
        }
        return ids
    }

    /// Runs `body` with a session and shuts the session down however it ends.
    static func with<T>(_ target: BenchTarget, scenario: String, prefix: String?,
                        _ body: (BenchSession) async throws -> T) async throws -> T {
        let session = try await BenchSession(target: target, scenario: scenario, prefix: prefix)
        do {
            let result = try await body(session)
            await session.shutdown()
            return result
        } catch {
            await session.shutdown()
            throw error
        }
    }

    func shutdown() async {
        await service?.shutdown()
        await dialer.shutdown()
    }

    /// Thousands of sockets need more than the usual 1,024 descriptors; as root the hard limit
    /// can be raised too.
    static func raiseFileLimit(to wanted: rlim_t = 1 << 20) throws {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur >= wanted { return }
        var raised = rlimit(rlim_cur: wanted, rlim_max: max(wanted, limit.rlim_max))
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) != 0 {
            raised = rlimit(rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max)
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised)
        }
    }
}
