/// edgeHub's routes, parsed once, that route each message to its sinks.
///
/// A message that several routes send to the same sink is delivered there once (IoT Hub and
/// edgeHub alike), by the route with the best (lowest) priority, whose TTL it takes: edgeHub's
/// evaluator groups matches by endpoint and keeps the first by priority, and its design notes
/// say "the route that yields the highest priority will be used". Between routes of equal
/// priority edgeHub's pick is arbitrary; here the longest TTL wins, so no copy expires sooner
/// than a matching route promised, then the first name.
public struct RouteSet: Sendable {
    /// The priority of a route that gives none: below 0–9, as edgeHub's `DefaultPriority`
    /// (2,000,000,000), so a catch-all route never outranks a prioritised one.
    public static let defaultPriority = 2_000_000_000

    /// A parsed route with its priority and resolved TTL (seconds).
    public struct Entry: Equatable, Sendable {
        public let route: Route
        public let priority: Int
        public let ttl: Int
    }

    /// By route name.
    public let entries: [Entry]
    public let defaultTTL: Int

    /// Parses every route; the first bad one, by name, is thrown with its name: edgeHub
    /// refuses the whole configuration then. `defaultTTL` is
    /// `storeAndForwardConfiguration.timeToLiveSecs`.
    public init(routes: [String: RouteSpec], defaultTTL: Int) throws(RouteError) {
        var entries: [Entry] = []
        for (name, spec) in routes.sorted(by: { $0.key < $1.key }) {
            let route = try Route(parsing: spec.route, name: name)
            let (priority, ttl) = try spec.resolved(name: name, defaultTTL: defaultTTL)
            entries.append(Entry(route: route, priority: priority, ttl: ttl))
        }
        self.entries = entries
        self.defaultTTL = defaultTTL
    }

    /// Where a message goes: one delivery per sink, best priority first (then by sink).
    public func match(_ message: RoutableMessage) -> [Delivery] {
        let context = EvaluationContext(message)
        var best: [RouteSink: Entry] = [:]
        for entry in entries where entry.route.matches(context) {
            if let current = best[entry.route.sink], !Self.isBetter(entry, than: current) { continue }
            best[entry.route.sink] = entry
        }
        return best.values
            .map { Delivery(sink: $0.route.sink, routeName: $0.route.name, priority: $0.priority, ttl: $0.ttl) }
            .sorted { ($0.priority, $0.sink.description) < ($1.priority, $1.sink.description) }
    }

    /// Entries come in name order, so a later one wins only by priority or, tied, by TTL.
    private static func isBetter(_ entry: Entry, than current: Entry) -> Bool {
        entry.priority < current.priority || (entry.priority == current.priority && entry.ttl > current.ttl)
    }
}
