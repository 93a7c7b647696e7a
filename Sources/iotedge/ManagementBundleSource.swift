import EdgeDaemon
import Foundation

/// The modules and their logs as the running daemon's management API gives them, for a bundle
/// made by `iotedge support-bundle`.
struct ManagementBundleSource: SupportBundleSource {
    let client: ManagementClient

    var summary: String { "iotedged's management API at \(client.uri)" }

    func modules() async throws -> [ModuleDetailsJSON] { try await client.modules() }

    func logs(of module: String, options: LogOptions) async throws -> [UInt8] {
        var query = "tail=all&follow=false&timestamps=\(options.timestamps)"
        if let since = options.since { query += "&since=\(String(format: "%.6f", since))" }
        if let until = options.until { query += "&until=\(String(format: "%.6f", until))" }
        var out: [UInt8] = []
        try await client.stream("/modules/\(percent(module))/logs?\(query)") { chunk in
            out.append(contentsOf: chunk.readableBytesView)
        }
        return out
    }

    func daemonStatus() async -> SystemStatus? { try? await client.status() }
}
