/// The functions a query may call: scalar functions anywhere, aggregations only at the top of a
/// `summarize` item. Names are matched in any case; aliases (`iff`, `floor`, `toreal`,
/// `todynamic`, `take_any`) read as the function they stand for.
enum LogFunction: String, Equatable, Sendable, CaseIterable {
    // time
    case ago, now, bin, todatetime, totimespan
    // conversion
    case tostring, toint, tolong, todouble, tobool
    // strings
    case strlen, tolower, toupper, strcat, substring
    // nulls and conditions
    case isempty, isnotempty, isnull, isnotnull, iif, coalesce, not
    // numbers
    case abs, round
    // dynamic
    case parseJSON = "parse_json", arrayLength = "array_length"
    // aggregations
    case count, countif, dcount, sum, avg, min, max, any
    case makeSet = "make_set", makeList = "make_list", argMax = "arg_max", argMin = "arg_min"

    private static let aliases: [String: LogFunction] = [
        "iff": .iif, "floor": .bin, "toreal": .todouble, "toboolean": .tobool, "todynamic": .parseJSON, "take_any": .any,
    ]

    init?(name: String) {
        let lower = name.lowercased()
        guard let function = LogFunction(rawValue: lower) ?? Self.aliases[lower] else { return nil }
        self = function
    }

    var isAggregate: Bool {
        switch self {
        case .count, .countif, .dcount, .sum, .avg, .min, .max, .any, .makeSet, .makeList, .argMax, .argMin: true
        default: false
        }
    }

    /// How many arguments the function takes.
    var arity: ClosedRange<Int> {
        switch self {
        case .now: 0...1
        case .count: 0...0
        case .bin: 2...2
        case .iif: 3...3
        case .round: 1...2
        case .substring: 2...3
        case .strcat, .coalesce: 1...64
        case .argMax, .argMin: 2...64
        default: 1...1
        }
    }

    var arityText: String {
        let range = arity
        let count = range.lowerBound == range.upperBound ? "\(range.lowerBound)" :
            range.upperBound == 64 ? "at least \(range.lowerBound)" : "\(range.lowerBound) to \(range.upperBound)"
        return "\(count) argument\(range == 1...1 ? "" : "s")"
    }

    /// The list error messages give when an aggregation is expected.
    static let aggregationList = allCases.filter(\.isAggregate).map { "\($0.rawValue)()" }.joined(separator: ", ")
}
