import ArgumentParser
import Foundation

struct EdgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edge",
        abstract: "Create edge devices, deploy modules to them, and see what their agent reports.",
        subcommands: [Create.self, SetModules.self, Show.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register an IoT Edge device with its $edgeAgent and $edgeHub modules.",
            discussion: """
                The device gets the base deployment (edgeAgent and edgeHub, every message routed to
                $upstream); change it with `iothub edge set-modules`. Put the printed connection string
                in the device's config.toml ([provisioning] connection_string). Example:

                  iothub edge create gateway1 --data-dir ~/.outpost/hub
                """)
        @Argument(help: "The device id.") var deviceID: String
        @OptionGroup var outputOptions: OutputOptions
        @OptionGroup var hub: HubLogin

        func run() async throws {
            let body: [String: Any] = ["deviceId": deviceID, "capabilities": ["iotEdge": true]]
            let (host, device) = try await hub.withClient { c in
                let device = try await c.json(.PUT, HubClient.path("devices", deviceID), body: body)
                _ = try await c.json(.POST, HubClient.path("devices", deviceID, "applyConfigurationContent"), body: EdgeDeployment.base)
                return (c.login.host, device)
            }
            let connectionString = try DeviceView.connectionString(device, host: host, key: "primary", moduleID: nil)
            if outputOptions.format == .json {
                Output.printJSON(["deviceId": deviceID, "connectionString": connectionString, "modules": ["$edgeAgent", "$edgeHub"]])
                return
            }
            print("created edge device \(deviceID) with modules $edgeAgent and $edgeHub")
            print("connection string (for config.toml [provisioning]):")
            print("  \(connectionString)")
        }
    }

    struct SetModules: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-modules",
            abstract: "Deploy modules to an edge device, as `az iot edge set-modules` does.",
            discussion: """
                The content is a deployment manifest: {"modulesContent": {"$edgeAgent": {"properties.desired":
                {…}}, "$edgeHub": {"properties.desired": {…}}, "<module>": {"properties.desired": {…}}}}. The hub
                checks it, creates the module identities it names and sets each module twin's desired
                properties; the device's edgeAgent then starts, updates or removes modules. Example:

                  iothub edge set-modules gateway1 --content deployment.json --data-dir ~/.outpost/hub
                """)
        @Argument(help: "The edge device id.") var deviceID: String
        @Option(help: "Path of the deployment manifest (JSON).") var content: String
        @OptionGroup var outputOptions: OutputOptions
        @OptionGroup var hub: HubLogin

        func validate() throws {
            guard FileManager.default.isReadableFile(atPath: content) else {
                throw ValidationError("--content \(content): no such readable file.")
            }
        }

        func run() async throws {
            let data = try Data(contentsOf: URL(fileURLWithPath: content))
            let manifest: Any
            do { manifest = try JSONSerialization.jsonObject(with: data) } catch {
                throw ValidationError("--content \(content) is not valid JSON: \((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)")")
            }
            let result = try await hub.withClient { try await $0.json(.POST, HubClient.path("devices", deviceID, "applyConfigurationContent"), body: manifest) }
            if outputOptions.format == .json { Output.printJSON(result); return }
            let modules = ((result as? [String: Any])?["modules"] as? [String]) ?? []
            print("deployment applied to \(deviceID): \(modules.joined(separator: ", "))")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what an edge device's agent reports: the deployment it runs and each module's state.",
            discussion: "Reads the $edgeAgent module twin. Example:\n\n  iothub edge show gateway1 --data-dir ~/.outpost/hub")
        @Argument(help: "The edge device id.") var deviceID: String
        @OptionGroup var outputOptions: OutputOptions
        @OptionGroup var hub: HubLogin

        func run() async throws {
            let twin = try await hub.withClient { try await $0.json(.GET, HubClient.path("twins", deviceID, "modules", "$edgeAgent")) }
            guard let t = twin as? [String: Any] else { Output.printJSON(twin); return }
            if outputOptions.format == .json { Output.printJSON(t); return }
            let desiredVersion = t.path("properties", "desired", "$version")
            let reported = t.path("properties", "reported") as? [String: Any] ?? [:]
            Output.printFields([
                ("Device", deviceID),
                ("Agent", Output.string(t["connectionState"])),
                ("Desired version", Output.string(desiredVersion)),
                ("Applied version", Output.string(reported["lastDesiredVersion"])),
                ("Deployment status", "\(Output.string((reported["lastDesiredStatus"] as? [String: Any])?["code"])) \(Output.string((reported["lastDesiredStatus"] as? [String: Any])?["description"]))"),
            ])
            var rows: [[String]] = []
            for group in ["systemModules", "modules"] {
                for (name, value) in ((reported[group] as? [String: Any]) ?? [:]).sorted(by: { $0.key < $1.key }) {
                    let m = value as? [String: Any] ?? [:]
                    rows.append([name, Output.string(m["runtimeStatus"]), Output.string(m["exitCode"]),
                                 Output.string(m["restartCount"]), Output.string(m["lastStartTimeUtc"]), Output.string(m["statusDescription"])])
                }
            }
            print()
            Output.printTable(["MODULE", "STATUS", "EXIT", "RESTARTS", "STARTED", "DESCRIPTION"], rows)
        }
    }
}

/// The base deployment `edge create` applies: the two system modules, everything to $upstream.
enum EdgeDeployment {
    static let base: [String: Any] = [
        "modulesContent": [
            "$edgeAgent": ["properties.desired": [
                "schemaVersion": "1.1",
                "runtime": ["type": "process", "settings": [:] as [String: Any]],
                "systemModules": [
                    "edgeAgent": ["type": "process", "settings": ["image": "edge-agent"]],
                    "edgeHub": ["type": "process", "status": "running", "restartPolicy": "always", "settings": ["image": "edge-hub"]],
                ],
                "modules": [:] as [String: Any],
            ]],
            "$edgeHub": ["properties.desired": [
                "schemaVersion": "1.1",
                "routes": ["upstream": "FROM /messages/* INTO $upstream"],
                "storeAndForwardConfiguration": ["timeToLiveSecs": 7200],
            ]],
        ],
    ]
}
