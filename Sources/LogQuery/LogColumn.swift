/// A named, typed column of a `LogTable`.
public struct LogColumn: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var type: LogType

    public init(_ name: String, _ type: LogType) {
        self.name = name
        self.type = type
    }

    public var description: String { "\(name):\(type.rawValue)" }
}
