import ArgumentParser
import Foundation
import NIOCore

struct MethodCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "method",
        abstract: "Invoke direct methods on devices and modules.",
        subcommands: [Invoke.self])

    struct Invoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Call a direct method and print the device's answer.",
            usage: "iothub method invoke <device-id> [<module-id>] <method-name> [--payload <json>] [--timeout <seconds>] [--connect-timeout <seconds>] [--json] [--data-dir <data-dir>] [--login <login>] [--ca <ca>] [--https-port <https-port>]",
            discussion: """
                The device must be connected and subscribed to direct methods; --connect-timeout gives \
                it that long to come online. Prints the status the device answered with, then its \
                payload. Exits 0 whenever the device answered, whatever the status; non-zero when the \
                hub reports an error (DeviceNotOnline, GatewayTimeout, …). Examples:

                  iothub method invoke sensor-1 reboot
                  iothub method invoke sensor-1 setInterval --payload '{"seconds": 10}'
                  iothub method invoke sensor-1 filter reset --connect-timeout 30
                """)
        @Argument(help: "The device id.") var deviceID: String
        @Argument(help: ArgumentHelp("The module id, when a module's method is called; otherwise the method name.",
                                     valueName: "module-id"))
        var second: String?
        @Argument(help: ArgumentHelp("The method name, after a module id.", valueName: "method-name"))
        var third: String?
        @Option(help: ArgumentHelp("The method's payload, any JSON value (default null).", valueName: "json")) var payload: String?
        @Option(help: ArgumentHelp("Seconds to wait for the device's answer (5…300).", valueName: "seconds")) var timeout = 30
        @Option(help: ArgumentHelp("Seconds to wait for the device to connect (0…300).", valueName: "seconds")) var connectTimeout = 0
        @Flag(help: "Print the hub's answer as is.") var json = false
        @OptionGroup var hub: HubLogin

        var moduleID: String? { third == nil ? nil : second }
        var methodName: String { third ?? second ?? "" }

        func validate() throws {
            guard second != nil else { throw ValidationError("Give the method to call: iothub method invoke <device-id> [<module-id>] <method-name>.") }
            guard !methodName.isEmpty else { throw ValidationError("The method name is empty.") }
            guard (5...300).contains(timeout) else { throw ValidationError("--timeout must be 5…300 seconds, not \(timeout).") }
            guard (0...300).contains(connectTimeout) else {
                throw ValidationError("--connect-timeout must be 0…300 seconds, not \(connectTimeout).")
            }
            _ = try parsedPayload()
        }

        func parsedPayload() throws -> Any {
            try payload.map { try JSONArgument.parse($0, option: "--payload") } ?? NSNull()
        }

        func run() async throws {
            let body: [String: Any] = [
                "methodName": methodName,
                "payload": try parsedPayload(),
                "responseTimeoutInSeconds": timeout,
                "connectTimeoutInSeconds": connectTimeout,
            ]
            let path = moduleID.map { HubClient.path("twins", deviceID, "modules", $0, "methods") }
                ?? HubClient.path("twins", deviceID, "methods")
            let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
            // The hub may wait connectTimeout for the device, then timeout for its answer: the
            // HTTP exchange must outlast both, or the CLI would give up before the hub does.
            let limit = TimeAmount.seconds(Int64(timeout + connectTimeout + 15))
            let (_, _, answer) = try await hub.withClient { try await $0.request(.POST, path, body: data, timeout: limit) }
            if json { print(String(decoding: answer, as: UTF8.self)); return }
            let result = try HubClient.decode(answer) as? [String: Any] ?? [:]
            print("status: \(Output.string(result["status"]))")
            Output.printJSON(result["payload"] ?? NSNull())
        }
    }
}
