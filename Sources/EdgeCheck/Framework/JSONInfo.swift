import Twin

/// Measured values for a check's `additional_info`, written as a plain dictionary.
public protocol JSONValueConvertible { var jsonValue: JSONValue { get } }

extension String: JSONValueConvertible { public var jsonValue: JSONValue { .string(self) } }
extension Double: JSONValueConvertible { public var jsonValue: JSONValue { .number(self) } }
extension Int: JSONValueConvertible { public var jsonValue: JSONValue { .number(Double(self)) } }
extension UInt64: JSONValueConvertible { public var jsonValue: JSONValue { .number(Double(self)) } }
extension Bool: JSONValueConvertible { public var jsonValue: JSONValue { .bool(self) } }
extension Array: JSONValueConvertible where Element: JSONValueConvertible {
    public var jsonValue: JSONValue { .array(map(\.jsonValue)) }
}

extension Dictionary where Key == String, Value == JSONValueConvertible {
    public var json: [String: JSONValue] { mapValues(\.jsonValue) }
}
