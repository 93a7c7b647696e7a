import Foundation
import HubStore

/// The diagnostic log categories, named as IoT Hub's diagnostic settings name them.
public enum DiagnosticCategory: String, CaseIterable, Sendable, Codable {
    case connections = "Connections"
    case deviceTelemetry = "DeviceTelemetry"
    case twinQueries = "TwinQueries"
    case directMethods = "DirectMethods"
    case c2dCommands = "C2DCommands"
    case fileUploadOperations = "FileUploadOperations"

    /// Connections is what troubleshooting a fleet needs first, so it is on from the start.
    var enabledByDefault: Bool { self == .connections }

    static let defaultRetentionDays = 7
    static let retentionRange = 1...365

    public static func named(_ text: String) -> DiagnosticCategory? {
        allCases.first { $0.rawValue.lowercased() == text.lowercased() }
    }

    static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// Where records go besides the store.
public enum DiagnosticSink: Sendable, Equatable, CustomStringConvertible {
    case file(String)
    case webhook(URL)

    public init(parsing text: String) throws {
        if text.hasPrefix("file:") {
            let path = String(text.dropFirst(5))
            guard path.hasPrefix("/") else {
                throw HubError.argumentInvalid("sink \"\(text)\": give an absolute path, e.g. file:/var/log/outpost/connections.ndjson.")
            }
            self = .file(path)
        } else if text.hasPrefix("webhook:") {
            let rest = String(text.dropFirst(8))
            guard let url = URL(string: rest), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                throw HubError.argumentInvalid("sink \"\(text)\": give an http or https URL, e.g. webhook:https://collector.example/logs.")
            }
            self = .webhook(url)
        } else {
            throw HubError.argumentInvalid("sink \"\(text)\" is invalid: use file:/absolute/path or webhook:https://… (or null to remove it).")
        }
    }

    public var description: String {
        switch self {
        case .file(let path): "file:\(path)"
        case .webhook(let url): "webhook:\(url.absoluteString)"
        }
    }
}

public struct DiagnosticSetting: Sendable, Equatable {
    public var category: DiagnosticCategory
    public var enabled: Bool
    public var retentionDays: Int
    public var sink: DiagnosticSink?

    static func defaults(_ category: DiagnosticCategory) -> DiagnosticSetting {
        DiagnosticSetting(category: category, enabled: category.enabledByDefault,
                          retentionDays: DiagnosticCategory.defaultRetentionDays, sink: nil)
    }

    init(category: DiagnosticCategory, enabled: Bool, retentionDays: Int, sink: DiagnosticSink?) {
        self.category = category
        self.enabled = enabled
        self.retentionDays = retentionDays
        self.sink = sink
    }

    init?(row: DiagnosticSettingRow) {
        guard let category = DiagnosticCategory.named(row.category) else { return nil }
        self.init(category: category, enabled: row.enabled, retentionDays: row.retentionDays,
                  sink: row.sink.flatMap { try? DiagnosticSink(parsing: $0) })
    }

    var row: DiagnosticSettingRow {
        DiagnosticSettingRow(category: category.rawValue, enabled: enabled, retentionDays: retentionDays, sink: sink?.description)
    }
}
