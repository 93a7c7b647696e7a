/// Where a route sends what it matches: the target after INTO.
/// See https://learn.microsoft.com/azure/iot-edge/module-composition#sink
public enum RouteSink: Hashable, Sendable, CustomStringConvertible {
    /// `$upstream`: IoT Hub (or the parent device, when nested).
    case upstream
    /// `BrokeredEndpoint("/modules/{moduleId}/inputs/{input}")`: an input of a module.
    case moduleInput(moduleId: String, input: String)

    public var description: String {
        switch self {
        case .upstream: "$upstream"
        case .moduleInput(let m, let i): "BrokeredEndpoint(\"/modules/\(m)/inputs/\(i)\")"
        }
    }

    static let forms = "$upstream or BrokeredEndpoint(\"/modules/{moduleId}/inputs/{input}\")"
}
