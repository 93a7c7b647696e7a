import ArgumentParser
import Foundation

/// Scenario 3: many connected devices that only keep their connection alive.
struct Idle: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connect N devices that then only ping: connect rate and the server's memory per connection.")

    @OptionGroup var target: TargetOptions
    @Option(help: "Devices to connect.") var devices = 10_000
    @Option(help: "Connection attempts in flight at once.") var concurrency = 200
    @Option(help: "Keep-alive in seconds (the client pings at this interval).") var keepAlive = 60
    @Option(help: "Seconds to hold the connections before measuring memory.") var hold: Double = 5
    @Option(help: "Device id prefix (default: a fresh random one).") var prefix: String?

    func validate() throws {
        if !(1...1_000_000).contains(devices) { throw ValidationError("--devices must be 1 to 1000000.") }
        if !(1...100_000).contains(concurrency) { throw ValidationError("--concurrency must be 1 to 100000.") }
        if !(0...65_535).contains(keepAlive) { throw ValidationError("--keep-alive must be 0 to 65535 seconds.") }
        if hold < 0 { throw ValidationError("--hold must be 0 or more seconds.") }
    }

    func run() async throws {
        let target = try self.target.resolve()
        try await BenchSession.with(target, scenario: "idle", prefix: prefix) { session in
            let ids = try await session.provision(devices)
            let stats = Stats()
            // Settle first, so that the baseline does not include the registry writes' garbage.
            try await Task.sleep(for: .seconds(1))
            let before = session.memory.sample()
            let progress = Progress(json: self.target.json)
            progress.start { elapsed in
                let s = stats.snapshot
                return String(format: "idle %@  %.0f s  connected %d of %d  errors %d", target.label, elapsed, s.connected, devices, s.errorCount)
            }
            let started = Date()
            let clients = await session.dialer.connectAll(ids, keepAlive: UInt16(keepAlive), concurrency: concurrency, stats: stats)
            let connectSeconds = Date().timeIntervalSince(started)
            try await Task.sleep(for: .milliseconds(Int(hold * 1000)))
            progress.stop()
            let after = session.memory.sample()
            let s = stats.snapshot
            var report = Report(scenario: "idle", target: target.label)
            report.add("transport", target.caPEM == nil ? "tcp" : "tls")
            report.add("devices", devices)
            report.add("connected", clients.count)
            report.add("connect_seconds", connectSeconds, digits: 2, "s")
            report.add("connect_rate", Double(clients.count) / connectSeconds, digits: 0, "conn/s")
            report.addLatency("connect", s.connectLatency)
            report.addMemory("server_before", before)
            report.addMemory("server_connected", after)
            if let before, let after, !clients.isEmpty {
                report.add("rss_per_connection_kib", Double(after.rssKiB - before.rssKiB) / Double(clients.count), digits: 1, "KiB")
                report.add("pss_per_connection_kib", Double(after.pssKiB - before.pssKiB) / Double(clients.count), digits: 1, "KiB")
            }
            report.addErrors(s.errors)
            await Dialer.closeAll(clients.values)
            print(report.render(json: self.target.json))
        }
    }
}

/// Scenario 4: every device connects at the same moment.
struct Storm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "N devices connect at once: the time until all are connected, and errors.")

    @OptionGroup var target: TargetOptions
    @Option(help: "Devices connecting at once.") var devices = 2_000
    @Option(help: "Device id prefix (default: a fresh random one).") var prefix: String?

    func validate() throws {
        if !(1...100_000).contains(devices) { throw ValidationError("--devices must be 1 to 100000.") }
    }

    func run() async throws {
        let target = try self.target.resolve()
        try await BenchSession.with(target, scenario: "storm", prefix: prefix) { session in
            let ids = try await session.provision(devices)
            let stats = Stats()
            let started = Date()
            let clients = await session.dialer.connectAll(ids, keepAlive: 60, concurrency: devices, stats: stats)
            let seconds = Date().timeIntervalSince(started)
            let memory = session.memory.sample()
            let s = stats.snapshot
            var report = Report(scenario: "storm", target: target.label)
            report.add("transport", target.caPEM == nil ? "tcp" : "tls")
            report.add("devices", devices)
            report.add("connected", clients.count)
            report.add("all_connected_seconds", seconds, digits: 2, "s")
            report.addLatency("connect", s.connectLatency)
            report.addMemory("server_connected", memory)
            report.addErrors(s.errors)
            await Dialer.closeAll(clients.values)
            print(report.render(json: self.target.json))
        }
    }
}
