/// One edgeHub route: `FROM <source> [WHERE <condition>] INTO <sink>`, the value (or the `route`
/// of the value) of an entry in `$edgeHub`'s desired `routes`.
/// See https://learn.microsoft.com/azure/iot-edge/module-composition#declare-routes
///
/// Keywords, function names, sources and sinks are read in any case, as edgeHub does (which
/// reads `true`, `false` and `null` only in lower case: other spellings are property names
/// there, literals here). The
/// condition is IoT Hub's message routing query language and is type-checked when the route is
/// parsed, as edgeHub does when it compiles one: application and system properties are strings,
/// so `temperature > 30` is refused (it could never match) with a hint to write
/// `AS_NUMBER(temperature) > 30`; `$body` values are JSON and checked per message.
public struct Route: Equatable, Sendable, CustomStringConvertible {
    /// Longest route text accepted, in Unicode scalars.
    public static let maxLength = 8192
    /// Deepest condition accepted: nesting of parentheses, functions and operators (a chain of
    /// ANDs or ORs counts once).
    public static let maxDepth = 64

    public let name: String
    /// The route as written.
    public let text: String
    public let source: RouteSource
    /// Nil when the route has no WHERE: every message of the source matches.
    public let condition: RouteExpression?
    public let sink: RouteSink

    /// Parses `text`; `maxLength` bounds it (a printed route may be longer than the original).
    public init(parsing text: String, name: String, maxLength: Int = Route.maxLength) throws(RouteError) {
        do {
            var parser = try Parser(text, maxLength: maxLength)
            (source, condition, sink) = try parser.parseRoute()
        } catch {
            var named = error
            named.routeName = name
            throw named
        }
        self.name = name
        self.text = text
    }

    /// Whether the message comes from the route's source and its condition is true. A
    /// condition that is false or undefined (a missing property, a body that is not JSON, a
    /// type mismatch) does not match.
    public func matches(_ message: RoutableMessage) -> Bool {
        guard source.matches(message.source) else { return false }
        guard let condition else { return true }
        return condition.evaluate(in: EvaluationContext(message)) == .bool(true)
    }

    func matches(_ context: EvaluationContext) -> Bool {
        guard source.matches(context.message.source) else { return false }
        guard let condition else { return true }
        return condition.evaluate(in: context) == .bool(true)
    }

    /// The route in canonical form, which parses back to the same route: keywords upper case,
    /// one space between parts, operators parenthesised.
    public var description: String {
        let condition = condition.map { " WHERE " + $0.text(top: true) } ?? ""
        return "FROM \(source)\(condition) INTO \(sink)"
    }
}
