import ArgumentParser
import Foundation
import IoTProtocol

struct DeviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device",
        abstract: "Create, show, list, update and delete device identities.",
        subcommands: [Create.self, Show.self, List.self, Update.self, Delete.self, ConnString.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a device (symmetric keys are generated unless given).")
        @Argument(help: "The device id.") var deviceID: String
        @Option(help: "enabled or disabled.") var status: String?
        @OptionGroup var keys: SymmetricKeyOptions
        @Flag(help: "Mark the device as an IoT Edge device.") var edge = false
        @OptionGroup var outputOptions: OutputOptions
        var output: OutputFormat { outputOptions.format }
        @OptionGroup var hub: HubLogin

        func run() async throws {
            var body: [String: Any] = ["deviceId": deviceID, "capabilities": ["iotEdge": edge]]
            if let status { body["status"] = status }
            if let authentication = keys.authentication { body["authentication"] = authentication }
            let device = try await hub.withClient { try await $0.json(.PUT, HubClient.path("devices", deviceID), body: body) }
            DeviceView.show(device, output)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a device.")
        @Argument(help: "The device id.") var deviceID: String
        @OptionGroup var outputOptions: OutputOptions
        var output: OutputFormat { outputOptions.format }
        @OptionGroup var hub: HubLogin

        func run() async throws {
            let device = try await hub.withClient { try await $0.json(.GET, HubClient.path("devices", deviceID)) }
            DeviceView.show(device, output)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List devices.")
        @Option(help: "At most this many.") var top: Int?
        @OptionGroup var outputOptions: OutputOptions
        var output: OutputFormat { outputOptions.format }
        @OptionGroup var hub: HubLogin

        func run() async throws {
            var path = HubClient.path("devices")
            if let top { path += "&top=\(top)" }
            let devices = try await hub.withClient { try await $0.json(.GET, path) } as? [[String: Any]] ?? []
            if output == .json { Output.printJSON(devices); return }
            Output.printTable(["DEVICE ID", "STATUS", "CONNECTION", "EDGE", "LAST ACTIVITY"], devices.map { d in
                [Output.string(d["deviceId"]), Output.string(d["status"]), Output.string(d["connectionState"]),
                 DeviceView.yesNo(d.path("capabilities", "iotEdge")), DeviceView.time(d["lastActivityTime"])]
            })
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a device's status or keys.")
        @Argument(help: "The device id.") var deviceID: String
        @Option(help: "enabled or disabled.") var status: String?
        @Option(help: "Why the status was set.") var statusReason: String?
        @OptionGroup var keys: SymmetricKeyOptions
        @Option(help: "Update only if the device's ETag is this one (default: any).") var etag: String?
        @OptionGroup var outputOptions: OutputOptions
        var output: OutputFormat { outputOptions.format }
        @OptionGroup var hub: HubLogin

        func run() async throws {
            var body: [String: Any] = ["deviceId": deviceID]
            if let status { body["status"] = status }
            if let statusReason { body["statusReason"] = statusReason }
            if let authentication = keys.authentication { body["authentication"] = authentication }
            let ifMatch = etag.map { "\"\($0)\"" } ?? "*"
            let device = try await hub.withClient {
                try await $0.json(.PUT, HubClient.path("devices", deviceID), body: body, headers: [("If-Match", ifMatch)])
            }
            DeviceView.show(device, output)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a device and its modules.")
        @Argument(help: "The device id.") var deviceID: String
        @Option(help: "Delete only if the device's ETag is this one.") var etag: String?
        @OptionGroup var hub: HubLogin

        func run() async throws {
            let ifMatch = etag.map { "\"\($0)\"" } ?? "*"
            _ = try await hub.withClient { try await $0.request(.DELETE, HubClient.path("devices", deviceID), headers: [("If-Match", ifMatch)]) }
            print("Deleted device \(deviceID).")
        }
    }

    struct ConnString: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "connection-string", abstract: "Print a device's connection string.")
        @Argument(help: "The device id.") var deviceID: String
        @Option(help: "primary or secondary.") var key = "primary"
        @OptionGroup var hub: HubLogin

        func run() async throws {
            let (host, device) = try await hub.withClient { c in (c.login.host, try await c.json(.GET, HubClient.path("devices", deviceID))) }
            print(try DeviceView.connectionString(device, host: host, key: key, moduleID: nil))
        }
    }
}

enum DeviceView {
    static func show(_ any: Any, _ output: OutputFormat) {
        guard let d = any as? [String: Any] else { Output.printJSON(any); return }
        if output == .json { Output.printJSON(d); return }
        var pairs: [(String, String)] = []
        if let m = d["moduleId"] { pairs.append(("Module ID", Output.string(m))) }
        pairs += [
            ("Device ID", Output.string(d["deviceId"])),
            ("Status", Output.string(d["status"] ?? "enabled")),
            ("Connection", Output.string(d["connectionState"])),
            ("Last activity", time(d["lastActivityTime"])),
            ("Auth type", Output.string(d.path("authentication", "type"))),
            ("Primary key", Output.string(d.path("authentication", "symmetricKey", "primaryKey"))),
            ("Secondary key", Output.string(d.path("authentication", "symmetricKey", "secondaryKey"))),
            ("ETag", Output.string(d["etag"])),
        ]
        if d["moduleId"] == nil { pairs.insert(("IoT Edge", yesNo(d.path("capabilities", "iotEdge"))), at: 3) }
        Output.printFields(pairs)
    }

    static func yesNo(_ any: Any?) -> String { (any as? Bool) == true ? "yes" : "no" }

    static func time(_ any: Any?) -> String {
        let s = Output.string(any)
        return s.hasPrefix("0001-01-01") ? "never" : s
    }

    static func connectionString(_ any: Any, host: String, key: String, moduleID: String?) throws -> String {
        guard let d = any as? [String: Any], let deviceID = d["deviceId"] as? String else { throw CLIError("unexpected answer from the hub") }
        guard key == "primary" || key == "secondary" else { throw CLIError("--key must be primary or secondary, not \"\(key)\".") }
        guard let value = d.path("authentication", "symmetricKey", key + "Key") as? String else {
            throw CLIError("the identity has no \(key) symmetric key (it authenticates with X.509).")
        }
        return ConnectionString(hostName: host, deviceID: deviceID, moduleID: moduleID, sharedAccessKey: value).description
    }
}
