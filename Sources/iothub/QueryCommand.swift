import ArgumentParser
import Foundation

struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Query device and module twins with IoT Hub's query language.",
        discussion: """
            Reads every page of the result. `SELECT *` lists twins (device, module, status, connection \
            state, version); a projection lists one column per property selected. Examples:

              iothub query "SELECT * FROM devices WHERE tags.site = 'north'"
              iothub query "SELECT deviceId, properties.reported.temp FROM devices"
              iothub query "SELECT * FROM devices" --page-size 500 --json
            """)

    @Argument(help: ArgumentHelp("The query, e.g. \"SELECT * FROM devices\".", valueName: "query")) var query: String
    @Option(help: ArgumentHelp("Items per request (1…1000).", valueName: "n")) var pageSize = 100
    @Flag(help: "Print all items as one JSON array.") var json = false
    @OptionGroup var hub: HubLogin

    func validate() throws {
        guard !query.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("The query is empty.") }
        guard (1...1000).contains(pageSize) else { throw ValidationError("--page-size must be 1…1000, not \(pageSize).") }
    }

    func run() async throws {
        let (items, itemType) = try await hub.withClient(fetchAll)
        if json { Output.printJSON(items); return }
        if items.isEmpty { print("no results"); return }
        let table = QueryTable.make(items, itemType: itemType)
        Output.printTable(table.headers, table.rows)
    }

    /// Follows `x-ms-continuation` to the last page; the item type is the first page's.
    private func fetchAll(_ client: HubClient) async throws -> ([Any], String?) {
        let path = HubClient.path("devices", "query")
        let progress = isatty(STDERR_FILENO) != 0
        var items: [Any] = [], itemType: String?, continuation: String?, pages = 0
        repeat {
            var headers = [("x-ms-max-item-count", String(pageSize))]
            if let continuation { headers.append(("x-ms-continuation", continuation)) }
            let (page, responseHeaders) = try await client.jsonWithHeaders(.POST, path, body: ["query": query], headers: headers)
            guard let array = page as? [Any] else { throw CLIError("the hub's query answer is not a JSON array") }
            items += array
            pages += 1
            if itemType == nil { itemType = responseHeaders.first(name: "x-ms-item-type") }
            let next = responseHeaders.first(name: "x-ms-continuation").flatMap { $0.isEmpty ? nil : $0 }
            // A hub that hands back the token it was given would keep us here for ever.
            if let next, next == continuation { throw CLIError("the hub returned the same continuation token twice") }
            continuation = next
            if progress && (continuation != nil || pages > 1) {
                let line = continuation != nil ? "\r\(items.count) items so far…" : "\r\u{1B}[K"
                FileHandle.standardError.write(Data(line.utf8))
            }
        } while continuation != nil
        return (items, itemType)
    }
}
