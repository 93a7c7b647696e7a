/// The path of a `$body` query: property names, each optionally followed by `[index]`s. Only
/// scalars are values: a path to an object or an array is undefined, as in edgeHub.
public struct BodyPath: Equatable, Sendable, CustomStringConvertible {
    public enum Component: Equatable, Sendable {
        case key(String)
        case index(Int)
    }

    public var components: [Component]

    public init(_ components: [Component]) { self.components = components }

    /// As written after `$body.`: `Weather.HistoricalData[0].Month`.
    public var description: String {
        var text = ""
        for component in components {
            switch component {
            case .key(let key): text += (text.isEmpty ? "" : ".") + key
            case .index(let i): text += "[\(i)]"
            }
        }
        return text
    }
}
