import Foundation
import LogQuery

/// Tables shaped like the hub's: AzureDiagnostics with Information and Error records in two
/// categories, and AzureMetrics. `now` is 08:00 on the day of the records.
enum Fixture {
    static let now = date("2026-11-25T08:00:00Z")

    static func date(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = formatter.date(from: text) { return d }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)!
    }

    static let diagnosticsColumns: [LogColumn] = [
        LogColumn("TimeGenerated", .datetime), LogColumn("Type", .string), LogColumn("ResourceType", .string),
        LogColumn("Category", .string), LogColumn("OperationName", .string), LogColumn("Level", .string),
        LogColumn("ResultType", .string), LogColumn("ResultDescription", .string), LogColumn("DurationMs", .long),
        LogColumn("DeviceId", .string), LogColumn("Protocol", .string), LogColumn("properties_s", .string),
    ]

    /// One AzureDiagnostics row; `id` is the device, and properties_s is its JSON.
    static func record(_ time: String, _ category: String, _ operation: String, _ level: String, _ code: String,
                       _ description: String, _ duration: Int64?, _ device: String?, _ proto: String) -> [LogValue] {
        let properties = "{\"deviceId\":\(device.map { "\"\($0)\"" } ?? "null"),\"protocol\":\"\(proto)\",\"keepAliveSeconds\":60}"
        return [
            .datetime(date(time)), .string("AzureDiagnostics"), .string("IOTHUBS"), .string(category), .string(operation),
            .string(level), .string(code), .string(description), duration.map(LogValue.long) ?? .null,
            device.map(LogValue.string) ?? .null, .string(proto), .string(properties),
        ]
    }

    static let diagnostics = LogTable(name: "AzureDiagnostics", columns: diagnosticsColumns, rows: [
        record("2026-11-25T07:00:00Z", "Connections", "deviceConnect", "Information", "", "", nil, "d1", "Mqtt"),
        record("2026-11-25T07:01:30Z", "Connections", "deviceDisconnect", "Error", "404104",
               "DeviceConnectionClosedRemotely: no packet within 1.5 × the keep-alive of 60 s", 95012, "d1", "Mqtt"),
        record("2026-11-25T07:02:00.250Z", "Connections", "deviceConnect", "Error", "401003", "IotHubUnauthorized: the SAS token expired", nil, "d2", "Mqtt"),
        record("2026-11-25T07:04:59Z", "DirectMethods", "directMethodInvoke", "Error", "404103", "DeviceNotOnline: d3 is not connected", nil, "d3", "Https"),
        record("2026-11-25T07:06:00Z", "Connections", "deviceDisconnect", "Information", "", "", 240000, "d2", "Amqp"),
        record("2026-11-25T07:20:00Z", "Connections", "deviceDisconnect", "Error", "404104",
               "DeviceConnectionClosedRemotely: no packet within 1.5 × the keep-alive of 60 s", 60000, "d1", "Mqtt"),
        record("2026-11-25T07:55:00Z", "Connections", "deviceConnect", "Information", "", "", nil, "d1", "Mqtt"),
    ])

    static let metrics = LogTable(name: "AzureMetrics", columns: [
        LogColumn("TimeGenerated", .datetime), LogColumn("Type", .string), LogColumn("ResourceType", .string),
        LogColumn("MetricName", .string), LogColumn("Total", .real), LogColumn("Count", .long),
        LogColumn("Minimum", .real), LogColumn("Maximum", .real), LogColumn("Average", .real), LogColumn("TimeGrain", .string),
    ], rows: [
        [.datetime(date("2026-11-25T07:00:00Z")), .string("AzureMetrics"), .string("IOTHUBS"), .string("connectedDeviceCount"),
         .real(2), .long(1), .real(2), .real(2), .real(2), .string("PT1M")],
        [.datetime(date("2026-11-25T07:01:00Z")), .string("AzureMetrics"), .string("IOTHUBS"), .string("d2c.telemetry.ingress.success"),
         .real(12), .long(3), .real(2), .real(6), .real(4), .string("PT1M")],
    ])

    static let tables = ["AzureDiagnostics": diagnostics, "AzureMetrics": metrics]

    static func run(_ query: String, _ tables: [String: LogTable] = Fixture.tables) throws -> LogTable {
        try LogQuery(parsing: query).run(on: tables, now: now)
    }

    /// The result's cells as text, row by row, for compact expectations.
    static func cells(_ query: String) throws -> [[String]] {
        try run(query).rows.map { $0.map(\.text) }
    }

    /// One column of the result, as text.
    static func column(_ name: String, _ query: String) throws -> [String] {
        let table = try run(query)
        guard let i = table.columns.firstIndex(where: { $0.name == name }) else { return ["no column \(name)"] }
        return table.rows.map { $0[i].text }
    }

    static func error(_ query: String, _ tables: [String: LogTable] = Fixture.tables) -> LogQueryError? {
        do {
            _ = try LogQuery(parsing: query).run(on: tables, now: now)
            return nil
        } catch {
            return error
        }
    }
}
