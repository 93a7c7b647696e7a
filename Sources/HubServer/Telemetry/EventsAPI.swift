import Foundation
import HubStore
import NIOCore

/// The built-in events endpoint, our stand-in for IoT Hub's Event Hubs-compatible endpoint:
/// a stream of stored telemetry as NDJSON, read from a position; consumer groups keep each
/// reader's position (checkpointed by the reader) so that it resumes where it stopped.
struct EventsAPI: Sendable {
    let hub: Hub
    static let defaultGroup = "$Default"
    /// An empty line is sent when nothing happened for this long, so a dead reader is noticed.
    static let heartbeat: Duration = .seconds(5)

    /// `GET /$outpost/events?consumerGroup=G&fromSequence=N&device=D&maxCount=N`
    func stream(_ request: HTTPRequest) async throws -> HTTPResponse {
        let group = request.query["consumerGroup"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultGroup
        try Self.validateGroup(group)
        let device = request.query["device"].flatMap { $0.isEmpty ? nil : $0 }
        let start: Int64
        if let from = request.query["fromSequence"] {
            guard let n = Int64(from), n >= 1 else {
                throw HubError.argumentInvalid("fromSequence \"\(from)\" must be a whole number of at least 1.")
            }
            start = n - 1
        } else if let since = request.query["fromEnqueuedTime"] {
            guard let ms = Int64(since) else {
                throw HubError.argumentInvalid("fromEnqueuedTime \"\(since)\" must be milliseconds since 1970.")
            }
            start = try await hub.store.position(atEnqueuedTime: ms)
        } else {
            // A group with no checkpoint yet reads from the oldest retained message.
            start = try await hub.store.consumerGroupPosition(group) ?? 0
        }
        let store = hub.store, feed = hub.feed
        return HTTPResponse(status: .ok, headers: ["Content-Type": "application/x-ndjson", "x-outpost-start-position": "\(start)"],
                            body: .stream { writer in
            var position = start
            while writer.isActive && !Task.isCancelled {
                // Take the committed high-water mark first: if the filtered query then finds
                // nothing, no message of this device lies at or below it, so the reader skips there.
                let latest = feed.latest
                let batch: [TelemetryRecord]
                if let recent = feed.recent(after: position, deviceID: device, limit: 500) {
                    batch = recent
                } else {
                    batch = try await store.messages(after: position, deviceID: device, limit: 500)
                }
                if batch.isEmpty {
                    if latest > position {
                        position = latest
                        continue
                    }
                    await feed.wait(after: position, timeout: Self.heartbeat)
                    if feed.latest <= position { try await writer.write(ByteBuffer(string: "\n")) }
                    continue
                }
                var out = ByteBuffer()
                TelemetryJSON.writeEventLines(batch, into: &out)
                position = batch.last?.sequenceNumber ?? position
                try await writer.write(out)
            }
        })
    }

    /// `PUT /$outpost/consumergroups/{name}` with `{"position": N}`: the reader has processed
    /// everything up to N.
    func checkpoint(_ group: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        try Self.validateGroup(group)
        guard let object = try? JSONSerialization.jsonObject(with: request.bodyData) as? [String: Any],
              let position = (object["position"] as? NSNumber)?.int64Value, position >= 0 else {
            throw HubError.argumentInvalid("The body must be {\"position\": N} with N a sequence number of at least 0.")
        }
        try await hub.store.setConsumerGroupPosition(group, position)
        return .json(["name": group, "position": position])
    }

    func consumerGroup(_ group: String) async throws -> HTTPResponse {
        let position = try await hub.store.consumerGroupPosition(group)
        return .json(["name": group, "position": position.map { NSNumber(value: $0) } ?? NSNull()])
    }

    /// `GET /$outpost/events/stats`: how much telemetry is kept and for how long.
    func stats() async throws -> HTTPResponse {
        let s = try await hub.store.telemetryStats()
        let groups = try await hub.store.consumerGroups()
        func time(_ ms: Int64?) -> Any { ms.map { TelemetryMessage.iso8601(milliseconds: $0) } ?? NSNull() }
        return .json([
            "messageCount": s.messageCount,
            "firstSequenceNumber": s.firstSequenceNumber.map { NSNumber(value: $0) } ?? NSNull(),
            "lastSequenceNumber": s.lastSequenceNumber.map { NSNumber(value: $0) } ?? NSNull(),
            "oldestEnqueuedTime": time(s.oldestEnqueuedTime),
            "newestEnqueuedTime": time(s.newestEnqueuedTime),
            "bodyBytes": s.bodyBytes,
            "retentionSeconds": hub.config.retention.components.seconds,
            "consumerGroups": groups.map { ["name": $0.name, "position": $0.position] },
        ])
    }

    static func validateGroup(_ name: String) throws {
        let ok = (1...64).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.$".contains($0)) }
        if !ok {
            throw HubError.argumentInvalid("consumer group \"\(name)\" is invalid: use 1 to 64 letters, digits, '-', '_', '.' or '$'.")
        }
    }
}
