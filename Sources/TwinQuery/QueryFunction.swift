import Twin

/// The functions a WHERE clause may call: IoT Hub's type checks and string tests. A function
/// given an undefined or mistyped argument answers undefined (the type checks answer false),
/// which never selects a twin.
public enum QueryFunction: String, Equatable, Sendable, CaseIterable {
    case isDefined = "IS_DEFINED"
    case isNull = "IS_NULL"
    case isBool = "IS_BOOL"
    case isNumber = "IS_NUMBER"
    case isString = "IS_STRING"
    case isObject = "IS_OBJECT"
    case isArray = "IS_ARRAY"
    case isPrimitive = "IS_PRIMITIVE"
    case startsWith = "STARTSWITH"
    case endsWith = "ENDSWITH"
    case contains = "CONTAINS"

    /// Looks a name up case-insensitively; the message-routing spellings STARTS_WITH and
    /// ENDS_WITH are accepted too.
    init?(name: String) {
        switch name.uppercased() {
        case "STARTS_WITH": self = .startsWith
        case "ENDS_WITH": self = .endsWith
        case let upper: self.init(rawValue: upper)
        }
    }

    var argumentCount: Int {
        switch self {
        case .startsWith, .endsWith, .contains: 2
        default: 1
        }
    }

    /// The result for evaluated arguments (nil meaning undefined); `arguments.count` is `argumentCount`.
    func apply(_ arguments: [JSONValue?]) -> JSONValue? {
        let value = arguments[0]
        switch self {
        case .isDefined: return .bool(value != nil)
        case .isNull: return .bool(value == .null)
        case .isBool: if case .bool = value { return true } else { return false }
        case .isNumber: if case .number = value { return true } else { return false }
        case .isString: if case .string = value { return true } else { return false }
        case .isObject: if case .object = value { return true } else { return false }
        case .isArray: if case .array = value { return true } else { return false }
        case .isPrimitive:
            switch value {
            case .null, .bool, .number, .string: return true
            default: return false
            }
        case .startsWith, .endsWith, .contains:
            guard case .string(let text)? = value, case .string(let part)? = arguments[1] else { return nil }
            switch self {
            case .startsWith: return .bool(text.hasPrefix(part))
            case .endsWith: return .bool(text.hasSuffix(part))
            default: return .bool(part.isEmpty || text.contains(part))
            }
        }
    }
}
