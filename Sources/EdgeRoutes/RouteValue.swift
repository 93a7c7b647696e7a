/// A value in a route condition. Application and system properties are strings; `$body` paths
/// give any JSON scalar. `undefined` is what a missing property, a `$body` path into a body
/// that is not JSON, or an operation on mismatched types gives; a condition that is not
/// `true` (undefined included) does not route the message.
public enum RouteValue: Equatable, Sendable {
    case undefined
    case null
    case bool(Bool)
    /// All numbers are doubles, as in edgeHub.
    case number(Double)
    case string(String)

    var isDefined: Bool { self != .undefined }
}
