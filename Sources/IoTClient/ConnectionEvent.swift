/// What happens to the client's connection, in order, for logs and health reporting.
public enum ConnectionEvent: Sendable, Equatable, CustomStringConvertible {
    /// About to try a transport (edgeAgent logs "Edge agent attempting to connect to IoT Hub via …").
    case attempting(IoTClientTransport)
    /// CONNACK accepted on this transport.
    case connected(IoTClientTransport)
    /// One transport failed; the next is tried, or the attempt ends.
    case attemptFailed(TransportFailure)
    /// The connection was lost; the client reconnects by itself.
    case disconnected(reason: String)
    /// The next reconnect attempt comes after this delay.
    case retrying(after: Duration, attempt: Int)
    /// The client reconnects to present a fresh SAS token before the old one expires.
    case renewingToken
    /// `close()` was called; nothing more will happen.
    case closed

    public var description: String {
        switch self {
        case .attempting(let t): "attempting to connect to IoT Hub via \(t)"
        case .connected(let t): "connected to IoT Hub via \(t)"
        case .attemptFailed(let f): "connection failed: \(f)"
        case .disconnected(let reason): "disconnected: \(reason)"
        case .retrying(let after, let attempt): "reconnecting in \(after.formattedSeconds) (attempt \(attempt))"
        case .renewingToken: "reconnecting to renew the SAS token"
        case .closed: "closed"
        }
    }
}
