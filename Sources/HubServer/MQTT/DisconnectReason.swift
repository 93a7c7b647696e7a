import IoTProtocol

/// Why a device connection ended, classified as the connection log reports it.
public enum DisconnectReason: Sendable, Equatable, CustomStringConvertible {
    case clientDisconnected
    case socketClosed
    case keepAliveExpired(seconds: Int)
    case unauthorized(String)
    case protocolViolation(String)
    case topicNotAllowed(String)
    case replacedByNewConnection
    case serverError(String)
    case connectTimeout
    case hubShuttingDown

    /// The IoT Hub error code of this disconnect; nil for a clean DISCONNECT.
    public var errorCode: IoTHubErrorCode? {
        switch self {
        case .clientDisconnected, .hubShuttingDown: nil
        case .socketClosed, .keepAliveExpired, .protocolViolation, .topicNotAllowed: .deviceConnectionClosedRemotely
        case .unauthorized: .iotHubUnauthorized
        case .replacedByNewConnection: .linkCreationConflict
        case .serverError: .serverError
        case .connectTimeout: .genericTimeout
        }
    }

    public var description: String {
        switch self {
        case .clientDisconnected: "the client sent DISCONNECT"
        case .socketClosed: "the socket closed without an MQTT DISCONNECT"
        case .keepAliveExpired(let s): "no packet within 1.5 × the keep-alive of \(s) s"
        case .unauthorized(let why): "unauthorized: \(why)"
        case .protocolViolation(let why): "protocol violation: \(why)"
        case .topicNotAllowed(let why): "topic not allowed: \(why)"
        case .replacedByNewConnection: "a new connection with the same client id replaced this one"
        case .serverError(let why): "server error: \(why)"
        case .connectTimeout: "TLS handshake and MQTT CONNECT not completed in time"
        case .hubShuttingDown: "the hub is shutting down"
        }
    }
}
