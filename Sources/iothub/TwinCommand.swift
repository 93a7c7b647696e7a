import ArgumentParser
import Foundation

struct TwinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "twin",
        abstract: "Show and update device and module twins.",
        subcommands: [Show.self, Update.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a device's or a module's twin.",
            discussion: """
                Prints the version, ETag, connection state and status, then the tags and the desired \
                and reported properties as JSON. Example:

                  iothub twin show sensor-1
                  iothub twin show sensor-1 filter --json
                """)
        @Argument(help: "The device id.") var deviceID: String
        @Argument(help: "The module id, for a module's twin.") var moduleID: String?
        @Flag(help: "Also show $metadata (when each property was last updated).") var metadata = false
        @Flag(help: "Print the twin as the hub returns it.") var json = false
        @OptionGroup var hub: HubLogin

        func run() async throws {
            let twin = try await hub.withClient { try await $0.json(.GET, TwinCommand.path(deviceID, moduleID)) }
            if json { Output.printJSON(twin); return }
            TwinView.show(twin, metadata: metadata)
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a twin's desired properties or tags.",
            discussion: """
                Without --replace the JSON is merged into the twin: keys given are set, keys set to null \
                are removed, other keys are kept. With --replace the tags or desired properties given \
                replace the twin's whole tags or desired section; a section not given is kept. Reported \
                properties are the device's and never change here. Examples:

                  iothub twin update sensor-1 --desired '{"interval": 30, "mode": null}'
                  iothub twin update sensor-1 --tags '{"site": "north"}' --etag AAAAAAAAAAM=
                  iothub twin update sensor-1 filter --desired '{}' --replace
                """)
        @Argument(help: "The device id.") var deviceID: String
        @Argument(help: "The module id, for a module's twin.") var moduleID: String?
        @Option(help: ArgumentHelp("Desired properties, a JSON object.", valueName: "json")) var desired: String?
        @Option(help: ArgumentHelp("Tags, a JSON object.", valueName: "json")) var tags: String?
        @Option(help: "Update only if the twin's ETag is still this one (default: whatever it is).") var etag: String?
        @Flag(help: "Replace the given sections instead of merging into them.") var replace = false
        @Flag(help: "Print the updated twin as the hub returns it.") var json = false
        @OptionGroup var hub: HubLogin

        func validate() throws {
            guard desired != nil || tags != nil else {
                throw ValidationError("Nothing to update: give --desired, --tags or both.")
            }
            _ = try twinBody()
        }

        /// `{"tags":…, "properties":{"desired":…}}` with the sections given.
        func twinBody() throws -> [String: Any] {
            var body: [String: Any] = [:]
            if let tags { body["tags"] = try JSONArgument.object(tags, option: "--tags") }
            if let desired { body["properties"] = ["desired": try JSONArgument.object(desired, option: "--desired")] }
            return body
        }

        func run() async throws {
            let path = TwinCommand.path(deviceID, moduleID)
            var body = try twinBody()
            var ifMatch = TwinCommand.ifMatch(etag)
            let twin = try await hub.withClient { client in
                if replace && (desired == nil || tags == nil) {
                    // PUT replaces tags and desired together: carry over the section not given, and
                    // make the PUT conditional on the twin read so that a change in between is not lost.
                    let (current, headers) = try await client.jsonWithHeaders(.GET, path)
                    let twin = current as? [String: Any] ?? [:]
                    if tags == nil { body["tags"] = twin["tags"] ?? [String: Any]() }
                    if desired == nil { body["properties"] = ["desired": TwinView.userProperties(twin.path("properties", "desired"))] }
                    if etag == nil, let read = headers.first(name: "ETag") ?? (twin["etag"] as? String) {
                        ifMatch = TwinCommand.ifMatch(read)
                    }
                }
                return try await client.json(replace ? .PUT : .PATCH, path, body: body, headers: [("If-Match", ifMatch)])
            }
            if json { Output.printJSON(twin); return }
            let t = twin as? [String: Any] ?? [:]
            let who = moduleID.map { "\(deviceID)/\($0)" } ?? deviceID
            print("updated twin of \(who): version \(Output.string(t["version"])), desired $version \(Output.string(t.path("properties", "desired", "$version")))")
        }
    }

    static func path(_ deviceID: String, _ moduleID: String?) -> String {
        moduleID.map { HubClient.path("twins", deviceID, "modules", $0) } ?? HubClient.path("twins", deviceID)
    }

    /// `If-Match` for an ETag as the user copied it: from the twin's `etag` field (bare) or from
    /// an ETag header (already quoted); none means any version.
    static func ifMatch(_ etag: String?) -> String {
        guard let etag, etag != "*" else { return "*" }
        if etag.count >= 2 && etag.hasPrefix("\"") && etag.hasSuffix("\"") { return etag }
        return "\"\(etag)\""
    }
}
