import Twin

/// A parsed IoT Hub query: `SELECT [TOP n] <projection> FROM devices | devices.modules
/// [WHERE <condition>] [GROUP BY <fields>]`, run over twin documents by `evaluate(_:)`.
/// https://learn.microsoft.com/azure/iot-hub/iot-hub-devguide-query-language
public struct Query: Equatable, Sendable {
    /// IoT Hub refuses longer query expressions.
    public static let maxLength = 8192
    /// Parentheses, NOT and function calls nest at most this deep, so no input can exhaust the
    /// stack of the parser, the evaluator or the printer.
    public static let maxDepth = 64

    public var top: Int?
    public var selection: Selection
    public var source: Source
    public var condition: QueryExpression?
    public var groupBy: [FieldPath]

    public init(top: Int? = nil, selection: Selection, source: Source, condition: QueryExpression? = nil, groupBy: [FieldPath] = []) {
        self.top = top
        self.selection = selection
        self.source = source
        self.condition = condition
        self.groupBy = groupBy
    }

    /// Parses query text; keywords and function names are case-insensitive. `maxLength` is
    /// there for tests and the fuzzer; the hub keeps the default.
    public init(parsing text: String, maxLength: Int = Query.maxLength) throws(QueryError) {
        var parser = try Parser(text, maxLength: maxLength)
        self = try parser.parseQuery()
    }

    public enum Selection: Equatable, Sendable {
        /// `SELECT *`: the twin documents themselves.
        case all
        case items([SelectItem])
    }

    public enum SelectItem: Equatable, Sendable {
        /// A property of the twin; its key in the result is the alias, else its own last key.
        case field(FieldPath, alias: String?)
        /// The number of twins (in the group); its key is the alias, else `$1`, `$2`… in order.
        case count(alias: String?)
    }

    /// The collection after FROM. Module twins carry a `moduleId`; device twins do not.
    public enum Source: String, Equatable, Sendable {
        case devices = "devices"
        case modules = "devices.modules"
    }

    /// What the result items are, sent as `x-ms-item-type`: SDKs read twins into twin objects
    /// and anything else as plain JSON.
    public enum ItemType: String, Sendable {
        case twin
        case raw
    }

    public var itemType: ItemType { selection == .all ? .twin : .raw }

    /// Whether rows are groups (COUNT() or GROUP BY) rather than one per twin.
    public var isAggregate: Bool {
        guard case .items(let items) = selection else { return false }
        return !groupBy.isEmpty || items.contains { if case .count = $0 { true } else { false } }
    }
}
