import ArgumentParser
import Foundation

struct ModuleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "module",
        abstract: "Create, show, list, update and delete module identities of a device.",
        subcommands: [Create.self, Show.self, List.self, Update.self, Delete.self, ConnString.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a module on a device.")
        @Argument(help: "The device id.") var deviceID: String
        @Argument(help: "The module id.") var moduleID: String
        @OptionGroup var keys: SymmetricKeyOptions
        @OptionGroup var outputOptions: OutputOptions
        var output: OutputFormat { outputOptions.format }
        @OptionGroup var hub: HubLogin

        func run() async throws {
            var body: [String: Any] = ["deviceId": deviceID, "moduleId": moduleID]
            if let authentication = keys.authentication { body["authentication"] = authentication }
            let module = try await hub.withClient { try await $0.json(.PUT, HubClient.path("devices", deviceID, "modules", moduleID), body: body) }
            DeviceView.show(module, output)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a module.")
        @Argument(help: "The device id.") var deviceID: String
        @Argument(help: "The module id.") var moduleID: String
        @OptionGroup var outputOptions: OutputOptions
        var output: OutputFormat { outputOptions.format }
        @OptionGroup var hub: HubLogin

        func run() async throws {
            let module = try await hub.withClient { try await $0.json(.GET, HubClient.path("devices", deviceID, "modules", moduleID)) }
            DeviceView.show(module, output)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a device's modules.")
        @Argument(help: "The device id.") var deviceID: String
        @OptionGroup var outputOptions: OutputOptions
        var output: OutputFormat { outputOptions.format }
        @OptionGroup var hub: HubLogin

        func run() async throws {
            let modules = try await hub.withClient { try await $0.json(.GET, HubClient.path("devices", deviceID, "modules")) } as? [[String: Any]] ?? []
            if output == .json { Output.printJSON(modules); return }
            Output.printTable(["MODULE ID", "CONNECTION", "MANAGED BY", "LAST ACTIVITY"], modules.map { m in
                [Output.string(m["moduleId"]), Output.string(m["connectionState"]), Output.string(m["managedBy"]),
                 DeviceView.time(m["lastActivityTime"])]
            })
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a module's keys.")
        @Argument(help: "The device id.") var deviceID: String
        @Argument(help: "The module id.") var moduleID: String
        @OptionGroup var keys: SymmetricKeyOptions
        @Option(help: "Update only if the module's ETag is this one (default: any).") var etag: String?
        @OptionGroup var outputOptions: OutputOptions
        var output: OutputFormat { outputOptions.format }
        @OptionGroup var hub: HubLogin

        func run() async throws {
            var body: [String: Any] = ["deviceId": deviceID, "moduleId": moduleID]
            if let authentication = keys.authentication { body["authentication"] = authentication }
            let ifMatch = etag.map { "\"\($0)\"" } ?? "*"
            let module = try await hub.withClient {
                try await $0.json(.PUT, HubClient.path("devices", deviceID, "modules", moduleID), body: body, headers: [("If-Match", ifMatch)])
            }
            DeviceView.show(module, output)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a module.")
        @Argument(help: "The device id.") var deviceID: String
        @Argument(help: "The module id.") var moduleID: String
        @OptionGroup var hub: HubLogin

        func run() async throws {
            _ = try await hub.withClient {
                try await $0.request(.DELETE, HubClient.path("devices", deviceID, "modules", moduleID), headers: [("If-Match", "*")])
            }
            print("Deleted module \(moduleID) of device \(deviceID).")
        }
    }

    struct ConnString: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "connection-string", abstract: "Print a module's connection string.")
        @Argument(help: "The device id.") var deviceID: String
        @Argument(help: "The module id.") var moduleID: String
        @Option(help: "primary or secondary.") var key = "primary"
        @OptionGroup var hub: HubLogin

        func run() async throws {
            let (host, module) = try await hub.withClient { c in
                (c.login.host, try await c.json(.GET, HubClient.path("devices", deviceID, "modules", moduleID)))
            }
            print(try DeviceView.connectionString(module, host: host, key: key, moduleID: moduleID))
        }
    }
}
