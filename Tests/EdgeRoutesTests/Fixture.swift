import EdgeRoutes

/// Messages and parsing shortcuts shared by the suites.
enum Fixture {
    static func route(_ text: String) throws -> Route { try Route(parsing: text, name: "r") }

    /// The error a route is refused with, or nil when it parses.
    static func error(_ text: String) -> RouteError? {
        do {
            _ = try Route(parsing: text, name: "r")
            return nil
        } catch {
            return error
        }
    }

    static func device(_ id: String = "thermostat", properties: [String: String] = [:], json: String? = nil) -> RoutableMessage {
        message(.device(id), properties: properties, json: json)
    }

    static func module(_ moduleId: String, output: String? = "output1", properties: [String: String] = [:], json: String? = nil) -> RoutableMessage {
        message(.module(deviceId: "edge1", moduleId: moduleId, output: output), properties: properties, json: json)
    }

    /// A message whose body, when given, is UTF-8 JSON labelled as such.
    static func message(_ source: RoutableMessage.Source, properties: [String: String] = [:], json: String? = nil) -> RoutableMessage {
        var message = RoutableMessage(source: source, properties: properties)
        if let json {
            message.body = Array(json.utf8)
            message.contentType = "application/json"
            message.contentEncoding = "utf-8"
        }
        return message
    }

    /// Whether the route (text) matches the message.
    static func matches(_ text: String, _ message: RoutableMessage) throws -> Bool {
        try route(text).matches(message)
    }

    /// Whether `FROM /* WHERE <condition> INTO $upstream` matches.
    static func holds(_ condition: String, _ message: RoutableMessage) throws -> Bool {
        try matches("FROM /* WHERE \(condition) INTO $upstream", message)
    }
}
