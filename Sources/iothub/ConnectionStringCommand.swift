import ArgumentParser
import Foundation

struct ConnectionStringCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connection-string",
        abstract: "Print the hub's service connection string (policy iothubowner).",
        discussion: "Use it with azure-iot-hub's IoTHubRegistryManager.from_connection_string, or as --login.")

    @OptionGroup var hub: HubLogin

    func run() async throws {
        print(try hub.resolve().connectionString.description)
    }
}
