import Foundation
import HubStore
import IoTProtocol
import NIOHTTP1
import Twin

/// Cloud-to-device messages over REST, Outpost's own endpoint (IoT Hub accepts them only over
/// AMQP): `POST|GET|DELETE /$outpost/devices/{d}/messages/devicebound`. Message properties come
/// as `iothub-*` headers, application properties as `iothub-app-{name}`.
struct CloudToDeviceAPI: Sendable {
    let hub: Hub

    /// IoT Hub's limits: 50 messages waiting per device, 64 KiB each, TTL up to 48 hours.
    static let maxQueueDepth = 50
    static let maxBodyBytes = 64 * 1024
    static let defaultTTL = 3600
    static let maxTTL = 48 * 3600
    static let ackValues = ["none", "positive", "negative", "full"]

    func send(_ device: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        guard request.body.readableBytes <= Self.maxBodyBytes else {
            throw HubError.argumentInvalid("The message body is \(request.body.readableBytes) bytes; a cloud-to-device message may carry at most \(Self.maxBodyBytes).")
        }
        let h = request.headers
        let ttl = try ttlSeconds(h.first(name: "iothub-expiry"))
        let ack = h.first(name: "iothub-ack")?.lowercased() ?? "none"
        guard Self.ackValues.contains(ack) else {
            throw HubError.argumentInvalid("iothub-ack \"\(ack)\" is invalid: use none, positive, negative or full.")
        }
        let now = Date()
        let expiry = now.addingTimeInterval(TimeInterval(ttl))
        let messageID = h.first(name: "iothub-messageid").flatMap { $0.isEmpty ? nil : $0 } ?? UUID().uuidString.lowercased()
        var pairs: [(String, String)] = [("$.mid", messageID)]
        for (header, key) in [("iothub-correlationid", "$.cid"), ("iothub-userid", "$.uid"),
                              ("iothub-contenttype", "$.ct"), ("iothub-contentencoding", "$.ce")] {
            if let value = h.first(name: header) { pairs.append((key, value)) }
        }
        pairs.append(("$.to", "/devices/\(device)/messages/deviceBound"))
        pairs.append(("$.exp", TwinTime.format(expiry)))
        pairs.append(("iothub-ack", ack))
        for (name, value) in h where name.lowercased().hasPrefix("iothub-app-") {
            let key = String(name.dropFirst("iothub-app-".count))
            guard !key.isEmpty else { throw HubError.argumentInvalid("A header iothub-app- needs a property name after the prefix.") }
            pairs.append((key, value))
        }
        let record = CloudToDeviceRecord(deviceId: device, messageId: messageID, body: request.bodyData,
                                         properties: pairs, enqueuedTime: now, expiryTime: expiry)
        let depth: Int
        do {
            (_, depth) = try await hub.store.enqueueCloudToDevice(record, maxDepth: Self.maxQueueDepth)
        } catch StoreError.notFound {
            throw HubError.notFound(device, nil)
        } catch StoreError.queueFull(let current) {
            throw HubError(.deviceMaximumQueueDepthExceeded, "Device '\(device)' already has \(current) cloud-to-device messages waiting (the most a device may have); wait until it receives them or purge its queue.")
        }
        hub.diagnostics.record(DiagnosticRecord(category: .c2dCommands, operationName: "send", error: nil, deviceID: device, moduleID: nil,
                                                properties: ["messageId": .string(messageID), "queueDepth": .number(Double(depth))]))
        hub.connections.push(.cloudToDeviceQueued, to: device)
        return .jsonValue(["messageId": .string(messageID), "expiryTime": .string(TwinTime.format(expiry)),
                           "queueDepth": .number(Double(depth))])
    }

    func list(_ device: String) async throws -> HTTPResponse {
        guard try await hub.store.identity(deviceID: device) != nil else { throw HubError.notFound(device, nil) }
        let pending = try await hub.store.pendingCloudToDevice(deviceID: device, now: Date(), limit: Self.maxQueueDepth)
        return .jsonValue(.array(pending.map { m in
            var properties: [String: JSONValue] = [:]
            for (k, v) in m.propertyPairs { properties[k] = .string(v) }
            return .object([
                "messageId": .string(m.messageId),
                "enqueuedTime": .string(TwinTime.format(m.enqueuedTime)),
                "expiryTime": .string(TwinTime.format(m.expiryTime)),
                "deliveryCount": .number(Double(m.deliveryCount)),
                "size": .number(Double(m.body.count)),
                "properties": .object(properties),
            ])
        }))
    }

    func purge(_ device: String) async throws -> HTTPResponse {
        do {
            let removed = try await hub.store.purgeCloudToDevice(deviceID: device)
            return .jsonValue(["totalMessagesPurged": .number(Double(removed)), "deviceId": .string(device)])
        } catch StoreError.notFound {
            throw HubError.notFound(device, nil)
        }
    }

    private func ttlSeconds(_ header: String?) throws -> Int {
        guard let header else { return Self.defaultTTL }
        guard let ttl = Int(header.trimmingCharacters(in: .whitespaces)), (1...Self.maxTTL).contains(ttl) else {
            throw HubError.argumentInvalid("iothub-expiry \"\(header)\" is invalid: give the time to live in whole seconds, 1 to \(Self.maxTTL).")
        }
        return ttl
    }
}
