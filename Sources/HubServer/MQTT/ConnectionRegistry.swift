import Foundation
import IoTProtocol
import NIOConcurrencyHelpers
import NIOCore
import Twin

/// What the hub sends to a connected client on its own initiative.
public enum ServerPush: Sendable {
    /// A desired-properties patch, already carrying its `$version`.
    case desiredPatch(JSONValue)
    case methodRequest(name: String, requestID: String, payload: ByteBuffer)
    /// New cloud-to-device messages were queued for the device.
    case cloudToDeviceQueued
    /// A message routed to one of a module's inputs (edgeHub), sent with QoS 1; the receipt
    /// learns of the module's PUBACK.
    case moduleInput(input: String, properties: PropertyBag, payload: ByteBuffer, receipt: DeliveryReceipt?)
}

/// The kinds of server-initiated traffic a client currently subscribes to.
public struct PushSubscriptions: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let methods = PushSubscriptions(rawValue: 1)
    public static let desiredPatches = PushSubscriptions(rawValue: 2)
    public static let twinResponses = PushSubscriptions(rawValue: 4)
    public static let cloudToDevice = PushSubscriptions(rawValue: 8)
    public static let moduleInputs = PushSubscriptions(rawValue: 16)

    public init(filters: some Sequence<String>) {
        var kinds: PushSubscriptions = []
        for filter in filters {
            switch IoTTopic.parseSubscription(filter) {
            case .methods: kinds.insert(.methods)
            case .twinDesiredPatches: kinds.insert(.desiredPatches)
            case .twinResponses: kinds.insert(.twinResponses)
            case .cloudToDevice: kinds.insert(.cloudToDevice)
            case .moduleInputs: kinds.insert(.moduleInputs)
            case nil: break
            }
        }
        self = kinds
    }
}

/// The live connections by client id. A new connection for a client id replaces the old one,
/// which is closed, as IoT Hub does (logged as 409002 LinkCreationConflict).
public final class ConnectionRegistry: Sendable {
    public struct Entry: Sendable {
        public let id: ObjectIdentifier
        public let channel: Channel
        public let close: @Sendable (DisconnectReason) -> Void
        /// Hands a push to the connection's event loop; the connection decides whether its
        /// subscriptions let it through.
        public let push: @Sendable (ServerPush) -> Void
        /// Kept current by the connection as it subscribes and unsubscribes, so that callers on
        /// other threads (a direct method waiting for its device) can ask without a round trip.
        public let subscriptions: NIOLockedValueBox<PushSubscriptions>
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

    /// Devices with at least one connection (the device's own, or one of its modules').
    public var connectedDeviceCount: Int {
        entries.withLockedValue { map in Set(map.keys.map { $0.split(separator: "/", maxSplits: 1)[0] }).count }
    }

    public func all() -> [Entry] { entries.withLockedValue { Array($0.values) } }

    /// Client ids of the connections subscribed to `kinds` (edgeHub proxies their methods).
    public func clientIDs(subscribedTo kinds: PushSubscriptions) -> [String] {
        entries.withLockedValue { map in
            map.filter { $0.value.subscriptions.withLockedValue { $0.isSuperset(of: kinds) } }.map(\.key)
        }
    }

    public func entry(_ clientID: String) -> Entry? { entries.withLockedValue { $0[clientID] } }

    public func isConnected(_ clientID: String) -> Bool { entries.withLockedValue { $0[clientID] != nil } }

    /// Whether `clientID` is connected and subscribed to `kinds`.
    public func isSubscribed(_ clientID: String, to kinds: PushSubscriptions) -> Bool {
        entry(clientID)?.subscriptions.withLockedValue { $0.isSuperset(of: kinds) } ?? false
    }

    /// Sends `push` to `clientID` if it is connected; returns whether it was.
    @discardableResult
    public func push(_ push: ServerPush, to clientID: String) -> Bool {
        guard let entry = entry(clientID) else { return false }
        entry.push(push)
        return true
    }
}
