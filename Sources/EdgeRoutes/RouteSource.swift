/// Which messages a route reads: the path after FROM.
/// See https://learn.microsoft.com/azure/iot-edge/module-composition#source
///
/// edgeHub matches a source as a case-insensitive prefix of the message's own path
/// (`/messages/modules/{m}/outputs/{o}/`), so module ids and output names match in any case,
/// and a trailing `/*` may be left off: `/messages/modules/filter` is `/messages/modules/filter/*`.
public enum RouteSource: Equatable, Sendable, CustomStringConvertible {
    /// `/*`: every message, twin change notifications included.
    case all
    /// `/messages/*`: telemetry from devices and modules.
    case messages
    /// `/messages/modules/*`: messages from any module.
    case modules
    /// `/messages/modules/{moduleId}/*`: any message from that module.
    case module(String)
    /// `/messages/modules/{moduleId}/outputs/*`: messages the module sent on any output.
    case moduleOutputs(String)
    /// `/messages/modules/{moduleId}/outputs/{output}`.
    case moduleOutput(String, output: String)
    /// `/twinChangeNotifications`: twin change notifications.
    case twinChangeNotifications

    public func matches(_ source: RoutableMessage.Source) -> Bool {
        switch (self, source) {
        case (.all, _): true
        case (.messages, .device), (.messages, .module), (.modules, .module): true
        case (.module(let m), .module(_, let moduleId, _)): Self.same(m, moduleId)
        case (.moduleOutputs(let m), .module(_, let moduleId, let output)): Self.same(m, moduleId) && output != nil
        case (.moduleOutput(let m, let o), .module(_, let moduleId, let output)):
            Self.same(m, moduleId) && output.map { Self.same(o, $0) } == true
        case (.twinChangeNotifications, .twinChangeNotification): true
        default: false
        }
    }

    private static func same(_ a: String, _ b: String) -> Bool { a.lowercased() == b.lowercased() }

    public var description: String {
        switch self {
        case .all: "/*"
        case .messages: "/messages/*"
        case .modules: "/messages/modules/*"
        case .module(let m): "/messages/modules/\(m)/*"
        case .moduleOutputs(let m): "/messages/modules/\(m)/outputs/*"
        case .moduleOutput(let m, let o): "/messages/modules/\(m)/outputs/\(o)"
        case .twinChangeNotifications: "/twinChangeNotifications"
        }
    }

    /// The forms an error message lists.
    static let forms = "/*, /messages/*, /messages/modules/*, /messages/modules/{moduleId}/*, "
        + "/messages/modules/{moduleId}/outputs/*, /messages/modules/{moduleId}/outputs/{output} or /twinChangeNotifications"
}
