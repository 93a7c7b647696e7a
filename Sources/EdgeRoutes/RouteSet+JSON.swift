extension RouteSet {
    /// The twin's `routes` object as JSON text, as edgeHub reads it: each value is a route
    /// string, or (schema 1.1) an object with `route` and optional `priority` and
    /// `timeToLiveSecs`; other keys are ignored, as Json.NET does.
    ///
    ///     {"toCloud": "FROM /messages/* INTO $upstream",
    ///      "alerts": {"route": "FROM /messages/modules/cam/outputs/alert INTO $upstream", "priority": 0, "timeToLiveSecs": 86400}}
    public init(json: String, defaultTTL: Int) throws(RouteError) {
        let root: JSONNode
        do {
            root = try JSONNode.parse(json)
        } catch {
            throw RouteError(.spec, at: error.position, "routes are not valid JSON: \(error.message)")
        }
        guard case .object(let members) = root else {
            throw RouteError(.spec, at: 0, "routes must be a JSON object of route names to routes")
        }
        var specs: [String: RouteSpec] = [:]
        for (name, value) in members.sorted(by: { $0.key < $1.key }) {
            specs[name] = try Self.spec(value, name: name)
        }
        try self.init(routes: specs, defaultTTL: defaultTTL)
    }

    private static func spec(_ value: JSONNode, name: String) throws(RouteError) -> RouteSpec {
        func fail(_ message: String) -> RouteError { RouteError(.spec, at: 0, message, routeName: name) }
        switch value {
        case .string(let route):
            return RouteSpec(route)
        case .object(let fields):
            guard case .string(let route)? = fields["route"] else {
                throw fail("a route object needs \"route\": \"FROM … INTO …\"")
            }
            return RouteSpec(route, priority: try integer(fields["priority"], "priority", fail),
                             ttl: try integer(fields["timeToLiveSecs"], "timeToLiveSecs", fail))
        default:
            throw fail("a route is a string or an object with \"route\", \"priority\" and \"timeToLiveSecs\"")
        }
    }

    /// A whole number that fits an Int, or nil when absent or null.
    private static func integer(_ node: JSONNode?, _ key: String, _ fail: (String) -> RouteError) throws(RouteError) -> Int? {
        switch node {
        case nil, .null?: return nil
        case .number(let x)? where x == x.rounded() && Swift.abs(x) <= 1e15: return Int(x)
        default: throw fail("\(key) must be a whole number")
        }
    }
}
