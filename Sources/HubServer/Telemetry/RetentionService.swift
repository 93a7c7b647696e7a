import Foundation
import Logging
import ServiceLifecycle

/// Removes telemetry older than the retention period, expired cloud-to-device messages (so
/// that the registry's message counts drop when they expire), diagnostic records older than
/// their category's retention and metric history older than 90 days, once a minute.
struct RetentionService: Service {
    let hub: Hub

    func run() async throws {
        let period = hub.config.retention
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let cutoff = Int64((Date().timeIntervalSince1970 - Double(period.components.seconds)) * 1000)
            do {
                let removed = try await hub.store.deleteMessages(enqueuedBefore: cutoff)
                if removed > 0 { hub.logger.info("retention removed old telemetry", metadata: ["messages": "\(removed)"]) }
                let expired = try await hub.store.expireCloudToDevice(now: Date())
                if expired > 0 { hub.metrics.increment(.c2dExpired, by: expired) }
                if expired > 0 { hub.logger.info("cloud-to-device messages expired undelivered", metadata: ["messages": "\(expired)"]) }
                for setting in hub.diagnostics.settings {
                    let before = Int64((Date().timeIntervalSince1970 - Double(setting.retentionDays) * 86_400) * 1000)
                    try await hub.store.deleteDiagnostics(category: setting.category.rawValue, before: before)
                }
                try await hub.store.deleteMetricSamples(beforeMinute: Int64(Date().timeIntervalSince1970) / 60 - 90 * 1440)
            } catch {
                hub.logger.error("retention sweep failed", metadata: ["error": "\(error)"])
            }
            let pause = Duration.seconds(min(60, max(1, period.components.seconds / 4)))
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
        }
    }
}
