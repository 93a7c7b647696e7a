/// One entry of `$edgeHub`'s desired `routes`: the route text, and since schema 1.1 a
/// priority and a time to live.
/// See https://learn.microsoft.com/azure/iot-edge/module-composition#priority-and-time-to-live
public struct RouteSpec: Equatable, Sendable {
    public var route: String
    /// 0 (highest) to 9; nil when not given, which ranks below every given priority.
    public var priority: Int?
    /// Seconds a message routed here may wait to be sent; nil or 0 means the default TTL
    /// (`storeAndForwardConfiguration.timeToLiveSecs`), as in edgeHub.
    public var ttl: Int?

    public init(_ route: String, priority: Int? = nil, ttl: Int? = nil) {
        self.route = route
        self.priority = priority
        self.ttl = ttl
    }

    /// The largest TTL edgeHub takes (a uint).
    public static let maxTTL = Int(UInt32.max)

    /// The priority and TTL checked, resolved against the defaults.
    func resolved(name: String, defaultTTL: Int) throws(RouteError) -> (priority: Int, ttl: Int) {
        if let priority, !(0...9).contains(priority) {
            throw RouteError(.spec, at: 0, "priority \(priority) is out of range: routes take 0 (highest) to 9", routeName: name)
        }
        if let ttl, !(0...Self.maxTTL).contains(ttl) {
            throw RouteError(.spec, at: 0, "timeToLiveSecs \(ttl) is out of range: 0 (the default) to \(Self.maxTTL)", routeName: name)
        }
        let ttl = self.ttl ?? 0
        return (priority ?? RouteSet.defaultPriority, ttl == 0 ? defaultTTL : ttl)
    }
}
