import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// The live connections by client id. A new connection for a client id replaces the old one,
/// which is closed, as IoT Hub does (logged as 409002 LinkCreationConflict).
public final class ConnectionRegistry: Sendable {
    public struct Entry: Sendable {
        public let id: ObjectIdentifier
        public let channel: Channel
        public let close: @Sendable (DisconnectReason) -> Void
    }

    private let entries = NIOLockedValueBox<[String: Entry]>([:])

    public init() {}

    /// Registers `entry`, returning the connection it replaces.
    public func register(_ clientID: String, _ entry: Entry) -> Entry? {
        entries.withLockedValue { $0.updateValue(entry, forKey: clientID) }
    }

    /// Removes the entry if it is still `id`'s (a replaced connection must not remove its successor).
    /// Returns whether it was.
    @discardableResult
    public func remove(_ clientID: String, id: ObjectIdentifier) -> Bool {
        entries.withLockedValue { map in
            guard map[clientID]?.id == id else { return false }
            map[clientID] = nil
            return true
        }
    }

    public var count: Int { entries.withLockedValue { $0.count } }

    public func all() -> [Entry] { entries.withLockedValue { Array($0.values) } }

    public func isConnected(_ clientID: String) -> Bool { entries.withLockedValue { $0[clientID] != nil } }
}
