/// A table of rows: the input of a query (AzureDiagnostics, AzureMetrics) and its result
/// (PrimaryResult). Every row has one value per column; a value is of the column's type or null.
public struct LogTable: Hashable, Sendable {
    public var name: String
    public var columns: [LogColumn]
    public var rows: [[LogValue]]

    public init(name: String, columns: [LogColumn], rows: [[LogValue]] = []) {
        self.name = name
        self.columns = columns
        self.rows = rows
    }

    /// The table object of the Log Analytics query API:
    /// `{"name":…,"columns":[{"name":…,"type":…}],"rows":[[…]]}`, datetimes as ISO 8601 strings.
    public var jsonText: String {
        var text = "{\"name\":" + JSONText.quoted(name) + ",\"columns\":["
        text += columns.map { "{\"name\":\(JSONText.quoted($0.name)),\"type\":\"\($0.type.rawValue)\"}" }.joined(separator: ",")
        text += "],\"rows\":["
        text += rows.map { "[" + $0.map(\.jsonText).joined(separator: ",") + "]" }.joined(separator: ",")
        return text + "]}"
    }
}
