import Foundation
import HubStore
import IoTProtocol
import Twin

/// A resource-log event before it is stored: what happened, to whom, with what result.
public struct DiagnosticRecord: Sendable {
    public var time: Date
    public var category: DiagnosticCategory
    public var operationName: String
    public var level: Level
    /// The IoT Hub error code, or nil for a success.
    public var error: IoTHubErrorCode?
    /// What exactly happened, in our words; appended to the error name in `resultDescription`.
    public var detail: String
    public var durationMs: Int64?
    public var deviceID: String?
    public var moduleID: String?
    public var properties: [String: JSONValue]

    public enum Level: String, Sendable { case information = "Information", warning = "Warning", error = "Error" }

    public init(time: Date = Date(), category: DiagnosticCategory, operationName: String, error: IoTHubErrorCode?,
                level: Level? = nil, detail: String = "", durationMs: Int64? = nil, deviceID: String?, moduleID: String?,
                properties: [String: JSONValue] = [:]) {
        self.time = time
        self.category = category
        self.operationName = operationName
        self.error = error
        self.level = level ?? (error == nil ? .information : .error)
        self.detail = detail
        self.durationMs = durationMs
        self.deviceID = deviceID
        self.moduleID = moduleID
        self.properties = properties
    }

    var resultType: String { error.map { String($0.rawValue) } ?? "" }

    var resultDescription: String {
        guard let error else { return detail }
        return detail.isEmpty ? error.name : "\(error.name): \(detail)"
    }

    var row: DiagnosticRow {
        var props = properties
        props["deviceId"] = deviceID.map(JSONValue.string) ?? .null
        props["moduleId"] = moduleID.map(JSONValue.string) ?? .null
        if let error { props["statusCode"] = .string(String(error.httpStatus)) }
        return DiagnosticRow(time: Int64((time.timeIntervalSince1970 * 1000).rounded()), category: category.rawValue,
                             operationName: operationName, level: level.rawValue, resultType: resultType,
                             resultDescription: resultDescription, durationMs: durationMs, deviceId: deviceID,
                             moduleId: moduleID, properties: JSONValue.object(props).jsonText)
    }
}

/// The resource-log JSON of a stored record, as Azure Monitor exports it (WIRE.md).
enum ResourceLog {
    static func resourceID(host: String) -> String {
        "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/OUTPOST/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/\(host.uppercased())"
    }

    static func json(_ row: DiagnosticRow, host: String) -> JSONValue {
        var record: [String: JSONValue] = [
            "time": .string(TwinTime.format(Date(timeIntervalSince1970: Double(row.time) / 1000))),
            "resourceId": .string(resourceID(host: host)),
            "operationName": .string(row.operationName),
            "category": .string(row.category),
            "level": .string(row.level),
            "resultType": .string(row.resultType),
            "resultDescription": .string(row.resultDescription),
            "location": "local",
            "properties": (try? JSONValue(parsing: row.properties)) ?? .object([:]),
        ]
        if let duration = row.durationMs { record["durationMs"] = .number(Double(duration)) }
        return .object(record)
    }

    /// `192.168.1.23` → `192.168.1.XXX`, as IoT Hub masks client addresses.
    static func maskedIP(_ address: String) -> String {
        if address.contains("."), let dot = address.lastIndex(of: ".") { return address[..<dot] + ".XXX" }
        if address.contains(":"), let colon = address.lastIndex(of: ":") { return address[..<colon] + ":XXXX" }
        return address
    }
}
