/// The built-in functions of the routing query language, edgeHub's set less
/// `twin_change_includes` (a twin-notification query this package does not model). Names are
/// matched in any case, as in edgeHub.
/// See https://learn.microsoft.com/azure/iot-hub/iot-hub-devguide-routing-query-syntax
public enum RouteFunction: String, CaseIterable, Sendable {
    // Type checks: true or false, never undefined.
    case isDefined = "IS_DEFINED"
    case isNull = "IS_NULL"
    case isString = "IS_STRING"
    case isNumber = "IS_NUMBER"
    case isBool = "IS_BOOL"
    /// A string holding a number, as a number: how to compare an application property numerically.
    case asNumber = "AS_NUMBER"
    // Strings, compared ordinally (case-sensitive); lengths and indexes count UTF-16 units, as .NET does.
    case startsWith = "STARTS_WITH"
    case endsWith = "ENDS_WITH"
    case contains = "CONTAINS"
    case indexOf = "INDEX_OF"
    case lower = "LOWER"
    case upper = "UPPER"
    case length = "LENGTH"
    case concat = "CONCAT"
    case substring = "SUBSTRING"
    // Numbers.
    case abs = "ABS"
    case ceiling = "CEILING"
    case floor = "FLOOR"
    case sign = "SIGN"
    case sqrt = "SQRT"
    case exp = "EXP"
    case power = "POWER"
    case square = "SQUARE"

    public init?(name: String) { self.init(rawValue: name.uppercased()) }

    /// What an argument may be: a type, or anything.
    enum Parameter {
        case any
        case type(ValueType)
    }

    /// The parameters; the last repeats when `maximum` is nil, and those past `minimum` are optional.
    var signature: (parameters: [Parameter], minimum: Int, maximum: Int?) {
        switch self {
        case .isDefined, .isNull, .isString, .isNumber, .isBool, .asNumber: ([.any], 1, 1)
        case .startsWith, .endsWith, .contains, .indexOf: ([.type(.string), .type(.string)], 2, 2)
        case .lower, .upper, .length: ([.type(.string)], 1, 1)
        case .concat: ([.type(.string)], 1, nil)
        case .substring: ([.type(.string), .type(.number), .type(.number)], 2, 3)
        case .abs, .ceiling, .floor, .sign, .sqrt, .exp, .square: ([.type(.number)], 1, 1)
        case .power: ([.type(.number), .type(.number)], 2, 2)
        }
    }

    var resultType: ValueType {
        switch self {
        case .isDefined, .isNull, .isString, .isNumber, .isBool, .startsWith, .endsWith, .contains: .bool
        case .lower, .upper, .concat, .substring: .string
        case .asNumber, .indexOf, .length, .abs, .ceiling, .floor, .sign, .sqrt, .exp, .power, .square: .number
        }
    }

    /// How an error message shows the expected call: "STARTS_WITH(string, string)".
    var usage: String {
        let (parameters, minimum, maximum) = signature
        var names: [String] = parameters.enumerated().map { i, p in
            var name: String
            switch p {
            case .any: name = "value"
            case .type(let t): name = t == .number ? "number" : "string"
            }
            if i >= minimum { name = "[" + name + "]" }
            return name
        }
        if maximum == nil { names.append("…") }
        return rawValue + "(" + names.joined(separator: ", ") + ")"
    }
}
