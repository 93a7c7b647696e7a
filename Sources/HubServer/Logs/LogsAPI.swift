import Foundation
import HubStore
import LogQuery
import NIOCore
import Twin

/// `POST /$outpost/logs/query`: a Kusto (KQL) subset over the hub's diagnostic records
/// (`AzureDiagnostics`) and metric history (`AzureMetrics`), the two tables an IoT hub's
/// Log Analytics workspace holds. The answer has Log Analytics' shape:
/// `{"tables":[{"name":"PrimaryResult","columns":[…],"rows":[…]}]}`.
struct LogsAPI: Sendable {
    let hub: Hub

    func query(_ request: HTTPRequest) async throws -> HTTPResponse {
        let body = try TwinAPI.parseBody(request)
        guard let text = body["query"]?.stringValue, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw HubError.argumentInvalid("The body needs a query: {\"query\": \"AzureDiagnostics | take 10\"}.")
        }
        let query: LogQuery
        do { query = try LogQuery(parsing: text) } catch {
            throw HubError.argumentInvalid(error.render(query: text))
        }
        let tables = try await LogTables(hub: hub).load()
        let result: LogTable
        do { result = try query.run(on: tables, now: Date()) } catch {
            throw HubError.argumentInvalid(error.render(query: text))
        }
        var out = ByteBuffer(string: "{\"tables\":[")
        out.writeString(result.jsonText)
        out.writeString("]}")
        return HTTPResponse(headers: ["Content-Type": "application/json; charset=utf-8"], body: .bytes(out))
    }
}

/// The hub's records as Log Analytics tables.
struct LogTables {
    let hub: Hub

    static let diagnosticsColumns: [LogColumn] = [
        .init("TimeGenerated", .datetime), .init("Type", .string), .init("ResourceType", .string),
        .init("ResourceProvider", .string), .init("Resource", .string), .init("ResourceId", .string),
        .init("Category", .string), .init("OperationName", .string), .init("Level", .string),
        .init("ResultType", .string), .init("ResultDescription", .string), .init("DurationMs", .long),
        .init("Location", .string), .init("DeviceId", .string), .init("ModuleId", .string), .init("Protocol", .string),
        .init("AuthType", .string), .init("MaskedIpAddress", .string), .init("SdkVersion", .string),
        .init("StatusCode", .string), .init("properties_s", .string),
    ]

    static let metricsColumns: [LogColumn] = [
        .init("TimeGenerated", .datetime), .init("Type", .string), .init("ResourceType", .string),
        .init("ResourceProvider", .string), .init("Resource", .string), .init("ResourceId", .string),
        .init("MetricName", .string), .init("Total", .real), .init("Count", .long), .init("Minimum", .real),
        .init("Maximum", .real), .init("Average", .real), .init("TimeGrain", .string), .init("UnitName", .string),
    ]

    func load() async throws -> [String: LogTable] {
        let host = hub.config.host
        let resource = LogValue.string(host.uppercased())
        let resourceID = LogValue.string(ResourceLog.resourceID(host: host))
        let records = try await hub.store.diagnostics()
        let diagnosticRows: [[LogValue]] = records.map { r in
            let properties = (try? JSONValue(parsing: r.properties)) ?? .object([:])
            func property(_ key: String) -> LogValue {
                switch properties[key] {
                case .string(let s)?: .string(s)
                case .number(let n)?: .string(JSONValue.format(n))
                default: .null
                }
            }
            return [
                .datetime(Date(timeIntervalSince1970: Double(r.time) / 1000)), .string("AzureDiagnostics"), .string("IOTHUBS"),
                .string("MICROSOFT.DEVICES"), resource, resourceID, .string(r.category), .string(r.operationName),
                .string(r.level), .string(r.resultType), .string(r.resultDescription), r.durationMs.map(LogValue.long) ?? .null,
                .string("local"), r.deviceId.map(LogValue.string) ?? .null, r.moduleId.map(LogValue.string) ?? .null,
                property("protocol"), property("authType"), property("maskedIpAddress"), property("sdkVersion"),
                property("statusCode"), .string(r.properties),
            ]
        }
        let nowMinute = Int64(Date().timeIntervalSince1970) / 60
        let samples = try await hub.store.metricSamples(fromMinute: nowMinute - 30 * 1440)
        let metricRows: [[LogValue]] = samples.map { m in
            [
                .datetime(Date(timeIntervalSince1970: Double(m.minute * 60))), .string("AzureMetrics"), .string("IOTHUBS"), .string("MICROSOFT.DEVICES"),
                resource, resourceID, .string(m.name), .real(m.total), .long(m.count), .real(m.minimum), .real(m.maximum),
                .real(m.count == 0 ? 0 : m.total / Double(m.count)), .string("PT1M"), .string("Count"),
            ]
        }
        return [
            "AzureDiagnostics": LogTable(name: "AzureDiagnostics", columns: Self.diagnosticsColumns, rows: diagnosticRows),
            "AzureMetrics": LogTable(name: "AzureMetrics", columns: Self.metricsColumns, rows: metricRows),
        ]
    }
}
