import ArgumentParser
import Foundation
import IoTProtocol

struct C2DCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "c2d",
        abstract: "Send cloud-to-device messages and inspect a device's queue of them.",
        discussion: """
            The hub keeps a device's messages (up to 50) until the device acknowledges them or they \
            expire, and delivers them in order while the device is connected and subscribed.
            """,
        subcommands: [Send.self, List.self, Purge.self])

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue a message for a device.",
            discussion: """
                The payload is sent as bytes, unchanged. Application properties reach the device in \
                the topic's property bag. Examples:

                  iothub c2d send sensor-1 --payload '{"led": "on"}'
                  iothub c2d send sensor-1 --payload-file notice.txt --property severity=high
                  iothub c2d send sensor-1 --payload 'reboot at 2:00' --ttl 600 --ack full
                """)
        @Argument(help: "The device id.") var deviceID: String
        @Option(help: ArgumentHelp("The message body, as text.", valueName: "text")) var payload: String?
        @Option(help: ArgumentHelp("Read the message body from this file.", valueName: "path")) var payloadFile: String?
        @Option(help: ArgumentHelp("An application property; repeat for more.", valueName: "name=value")) var property: [String] = []
        @Option(help: "The message id (default: a new UUID).") var messageId: String?
        @Option(help: "The correlation id.") var correlationId: String?
        @Option(help: "The payload's content type, e.g. application/json.") var contentType: String?
        @Option(help: "The payload's content encoding, e.g. utf-8.") var contentEncoding: String?
        @Option(help: "Which feedback the hub should produce.") var ack: C2DMessageHeaders.Ack?
        @Option(help: ArgumentHelp("Seconds until the message expires (1…172800; default 3600).", valueName: "seconds")) var ttl: Int?
        @Flag(help: "Print the hub's answer as JSON.") var json = false
        @OptionGroup var hub: HubLogin

        /// The hub's limit on a message body.
        static let maxPayloadBytes = 64 * 1024

        func validate() throws {
            if payload != nil && payloadFile != nil { throw ValidationError("Give --payload or --payload-file, not both.") }
            if let ttl, !C2DMessageHeaders.ttlRange.contains(ttl) {
                throw ValidationError("--ttl must be 1…172800 seconds (48 hours), not \(ttl).")
            }
            if let payload, payload.utf8.count > Self.maxPayloadBytes { throw tooLarge(payload.utf8.count) }
            _ = try messageHeaders()
        }

        func messageHeaders() throws -> C2DMessageHeaders {
            if let messageId { try C2DMessageHeaders.checkMessageID(messageId, option: "--message-id") }
            for (option, value) in [("--correlation-id", correlationId), ("--content-type", contentType),
                                    ("--content-encoding", contentEncoding)] {
                if let value { try C2DMessageHeaders.checkValue(value, option: option) }
            }
            return C2DMessageHeaders(
                messageID: messageId ?? UUID().uuidString.lowercased(), correlationID: correlationId,
                contentType: contentType, contentEncoding: contentEncoding, ack: ack, ttl: ttl,
                properties: try C2DMessageHeaders.properties(property))
        }

        private func tooLarge(_ bytes: Int) -> ValidationError {
            ValidationError("The payload is \(bytes) bytes; the hub takes at most \(Self.maxPayloadBytes).")
        }

        func run() async throws {
            var body = Data(payload?.utf8 ?? "".utf8)
            if let payloadFile {
                do { body = try Data(contentsOf: URL(fileURLWithPath: payloadFile)) } catch {
                    throw CLIError("cannot read --payload-file \(payloadFile): \(error.localizedDescription)")
                }
                if body.count > Self.maxPayloadBytes { throw tooLarge(body.count) }
            }
            let headers = try messageHeaders()
            let (_, _, answer) = try await hub.withClient {
                try await $0.request(.POST, C2DCommand.path(deviceID), body: body, headers: headers.headers,
                                     contentType: "application/octet-stream")
            }
            let decoded = try HubClient.decode(answer)
            if json { Output.printJSON(decoded); return }
            let queued = decoded as? [String: Any] ?? [:]
            let id = queued["messageId"] as? String ?? headers.messageID
            print("queued message \(id) for \(deviceID) (\(Output.string(queued["queueDepth"])) waiting, expires \(Output.string(queued["expiryTime"])))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the messages waiting for a device.",
            discussion: """
                Messages stay listed until the device acknowledges them (DELIVERIES counts the attempts) \
                or they expire. Example:

                  iothub c2d list sensor-1
                """)
        @Argument(help: "The device id.") var deviceID: String
        @Flag(help: "Print the hub's answer as JSON.") var json = false
        @OptionGroup var hub: HubLogin

        func run() async throws {
            let messages = try await hub.withClient { try await $0.json(.GET, C2DCommand.path(deviceID)) }
            if json { Output.printJSON(messages); return }
            Output.printTable(["MESSAGE ID", "ENQUEUED", "EXPIRES", "DELIVERIES", "SIZE"],
                              (messages as? [[String: Any]] ?? []).map { m in
                [Output.string(m["messageId"]), Output.string(m["enqueuedTime"]), Output.string(m["expiryTime"]),
                 Output.string(m["deliveryCount"]), Output.string(m["size"])]
            })
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete all messages waiting for a device.",
            discussion: """
                Example:

                  iothub c2d purge sensor-1
                """)
        @Argument(help: "The device id.") var deviceID: String
        @Flag(help: "Print the hub's answer as JSON.") var json = false
        @OptionGroup var hub: HubLogin

        func run() async throws {
            let result = try await hub.withClient { try await $0.json(.DELETE, C2DCommand.path(deviceID)) }
            if json { Output.printJSON(result); return }
            let n = (result as? [String: Any])?["totalMessagesPurged"] as? Int ?? 0
            print("purged \(n) message\(n == 1 ? "" : "s") for \(deviceID)")
        }
    }

    /// Outpost's own endpoint: IoT Hub sends cloud-to-device messages only over AMQP.
    static func path(_ deviceID: String) -> String {
        "/$outpost/devices/\(PercentEncoding.encode(deviceID))/messages/devicebound"
    }
}
