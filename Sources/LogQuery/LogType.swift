/// The type of a column, named as Log Analytics names column types in query results.
public enum LogType: String, Sendable, Hashable, CaseIterable {
    case string
    case long
    case real
    case datetime
    case timespan
    case bool
    case dynamic

    var isNumeric: Bool { self == .long || self == .real }
}
