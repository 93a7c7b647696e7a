import ArgumentParser
import Foundation
import IoTProtocol

struct FilesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "files",
        abstract: "The hub's blob storage: SAS URLs, uploaded files, and devices' upload notifications.",
        discussion: """
            The hub stores blobs in its data directory (blobs/CONTAINER/NAME) and serves them on its \
            HTTPS port at https://HOST/blobs/CONTAINER/NAME, authorised by a storage SAS, as Azure \
            Storage does. Devices upload there with IoT Hub's file upload (get_storage_info_for_blob, \
            into the container fileupload as DEVICE/NAME); edgeAgent's UploadSupportBundle and \
            UploadModuleLogs upload to the sasUrl that `iothub files sas` prints.
            """,
        subcommands: [SAS.self, List.self, Get.self, Notifications.self])

    struct SAS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a SAS URL for a container (or one blob in it).",
            discussion: """
                A container URL is what edgeAgent's UploadSupportBundle and UploadModuleLogs take as \
                sasUrl: they put the blob's name after the container in the URL's path. The container \
                is created by the first upload. Examples:

                  iothub files sas --container support-bundles
                  iothub files sas --container support-bundles --permissions rwl --expiry 1d
                  iothub method invoke gw1 '$edgeAgent' UploadSupportBundle \\
                      --payload "{\\"schemaVersion\\":\\"1.0\\",\\"sasUrl\\":\\"$(iothub files sas --container support-bundles)\\"}"
                """)
        @Option(help: "The container: 3-63 lowercase letters, digits and hyphens.") var container: String
        @Option(help: "One blob in the container, for a blob SAS instead of a container SAS.") var blob: String?
        @Option(help: "Letters of r (read) a (add) c (create) w (write) d (delete) l (list; container only).") var permissions = "rwl"
        @Option(help: ArgumentHelp("How long the URL is valid, e.g. 30m, 1h, 7d (at most 365d).", valueName: "duration")) var expiry = "1h"
        @Flag(help: "Print the hub's answer as JSON.") var json = false
        @OptionGroup var hub: HubLogin

        func validate() throws {
            _ = try DurationArgument.parse(expiry, option: "--expiry")
        }

        func run() async throws {
            let seconds = try DurationArgument.parse(expiry, option: "--expiry").seconds
            var body: [String: Any] = ["container": container, "permissions": permissions, "expirySeconds": seconds]
            if let blob { body["blob"] = blob }
            let answer = try await hub.withClient { try await $0.json(.POST, HubClient.outpostPath("files", "sas"), body: body) }
            if json { Output.printJSON(answer); return }
            print(Output.string((answer as? [String: Any])?["url"]))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the stored blobs.",
            discussion: """
                Examples:

                  iothub files list
                  iothub files list --container fileupload --json
                """)
        @Option(help: "Only this container.") var container: String?
        @Flag(help: "Print JSON for programs instead of a table.") var json = false
        @OptionGroup var hub: HubLogin

        func run() async throws {
            let path = HubClient.outpostPath("files", query: [("container", container)])
            let items = try await hub.withClient { try await $0.json(.GET, path) }
            if json { Output.printJSON(items); return }
            let rows = (items as? [[String: Any]] ?? []).map { b in
                [Output.string(b["container"]), Output.string(b["name"]), Output.string(b["size"]), Output.string(b["lastModified"])]
            }
            if rows.isEmpty { print(container.map { "no blobs in container \($0)" } ?? "no blobs stored"); return }
            Output.printTable(["CONTAINER", "NAME", "SIZE", "LAST MODIFIED"], rows, rightAligned: [2])
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download a blob.",
            discussion: """
                Writes to a file named after the blob in the current directory unless -o says \
                otherwise; -o - writes the bytes to standard output. Examples:

                  iothub files get fileupload/sensor-1/report.txt
                  iothub files get support-bundles/gw1-bundle.zip -o bundle.zip
                """)
        @Argument(help: ArgumentHelp("The container and the blob's name.", valueName: "container/blob")) var path: String
        @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Where to write it; - for standard output.", valueName: "file")) var output: String?
        @OptionGroup var hub: HubLogin

        func validate() throws {
            guard let slash = path.firstIndex(of: "/"), slash != path.startIndex, path.index(after: slash) != path.endIndex else {
                throw ValidationError("Give the blob as CONTAINER/NAME (e.g. fileupload/sensor-1/report.txt), not \"\(path)\"; `iothub files list` shows the names.")
            }
        }

        func run() async throws {
            let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            let urlPath = "/$outpost/files/" + parts.map { PercentEncoding.encode($0) }.joined(separator: "/")
            let target = output ?? parts.last!
            if target == "-" {
                _ = try await hub.withClient { try await $0.download(urlPath, into: FileHandle.standardOutput) }
                return
            }
            // Into a temporary file first, so that a failed download leaves no partial file behind.
            let temp = target + ".part"
            guard FileManager.default.createFile(atPath: temp, contents: nil), let handle = FileHandle(forWritingAtPath: temp) else {
                throw CLIError("cannot write \(temp): check that its directory exists and is writable.")
            }
            do {
                let bytes = try await hub.withClient { try await $0.download(urlPath, into: handle) }
                try handle.close()
                if FileManager.default.fileExists(atPath: target) { try FileManager.default.removeItem(atPath: target) }
                try FileManager.default.moveItem(atPath: temp, toPath: target)
                print("saved \(path) to \(target) (\(bytes) bytes)")
            } catch {
                try? handle.close()
                try? FileManager.default.removeItem(atPath: temp)
                throw error
            }
        }
    }

    struct Notifications: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the file upload notifications devices sent.",
            discussion: """
                A device sends one after its upload (notify_blob_upload_status), saying whether it \
                succeeded. The hub keeps the last 1000. Example:

                  iothub files notifications
                """)
        @Flag(help: "Print JSON for programs instead of a table.") var json = false
        @OptionGroup var hub: HubLogin

        func run() async throws {
            let records = try await hub.withClient { try await $0.json(.GET, HubClient.outpostPath("files", "notifications")) }
            if json { Output.printJSON(records); return }
            let rows = (records as? [[String: Any]] ?? []).map { n in
                [Output.string(n["enqueuedTimeUtc"]), Output.string(n["deviceId"]), "\(Output.string(n["containerName"]))/\(Output.string(n["blobName"]))",
                 (n["isSuccess"] as? Bool) == true ? "yes" : "no", Output.string(n["statusCode"]), Output.string(n["statusDescription"]),
                 Output.string(n["blobSizeInBytes"])]
            }
            if rows.isEmpty { print("no file upload notifications"); return }
            Output.printTable(["TIME", "DEVICE", "BLOB", "SUCCESS", "STATUS", "DESCRIPTION", "SIZE"], rows, rightAligned: [6])
        }
    }
}
