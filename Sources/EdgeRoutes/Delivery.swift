/// A message's delivery to one sink, and the route that decided it.
public struct Delivery: Equatable, Sendable {
    public var sink: RouteSink
    public var routeName: String
    /// 0 (highest) to 9, or `RouteSet.defaultPriority`.
    public var priority: Int
    /// Seconds the message may wait to be sent.
    public var ttl: Int

    public init(sink: RouteSink, routeName: String, priority: Int, ttl: Int) {
        self.sink = sink
        self.routeName = routeName
        self.priority = priority
        self.ttl = ttl
    }
}
