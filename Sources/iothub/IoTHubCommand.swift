import ArgumentParser

@main
struct IoTHubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iothub",
        abstract: "Outpost's IoT hub: run it, administer devices, modules, twins, methods, messages and telemetry, and read its logs, metrics and alerts.",
        discussion: """
            Start a hub with `iothub serve --data-dir DIR --host HOST`. The other commands talk to a \
            running hub over its REST API; give them the same --data-dir (which supplies the key and \
            the CA) or --login with the service connection string (`iothub connection-string`).
            """,
        subcommands: [Serve.self, ConnectionStringCommand.self, DeviceCommand.self, ModuleCommand.self, EdgeCommand.self,
                      TwinCommand.self, MethodCommand.self, C2DCommand.self, QueryCommand.self,
                      MonitorEvents.self, TelemetryCommand.self, DiagnosticsCommand.self, LogsCommand.self,
                      MetricsCommand.self, AlertsCommand.self, DiagnoseCommand.self, FilesCommand.self])
}
