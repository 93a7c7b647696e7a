import MQTT

/// Why an `IoTClient` call failed. Each case says what went wrong and what to do about it.
public enum IoTClientError: Error, Sendable, CustomStringConvertible {
    /// The configuration cannot work (a bad id, key or CA certificate).
    case invalidConfiguration(String)
    /// No transport connected; one failure per transport tried, in order.
    case connectFailed([TransportFailure])
    /// `connect()` has not succeeded yet.
    case notConnected
    /// `close()` was called.
    case closed
    /// No answer in time (PUBACK, SUBACK or a twin response), reconnects included.
    case timedOut(operation: String, after: Duration)
    /// The hub answered a twin request with an error status.
    case requestFailed(operation: String, status: Int, message: String?)
    /// The hub refused a subscription (SUBACK 0x80).
    case subscriptionRefused(topicFilter: String)
    /// The hub's answer could not be read.
    case invalidResponse(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let why):
            "invalid client configuration: \(why)"
        case .connectFailed(let failures):
            "could not connect to IoT Hub: " + failures.map(\.description).joined(separator: "; ")
        case .notConnected:
            "the client is not connected: call connect() first"
        case .closed:
            "the client was closed"
        case .timedOut(let operation, let after):
            "\(operation) got no answer within \(after.formattedSeconds)"
        case .requestFailed(let operation, let status, let message):
            "\(operation) failed with status \(status)" + (message.map { ": \($0)" } ?? "")
        case .subscriptionRefused(let filter):
            "the hub refused the subscription to \(filter)"
        case .invalidResponse(let why):
            "the hub's answer could not be read: \(why)"
        }
    }

    /// Whether the hub refused the credentials (CONNACK 4 or 5) on every transport tried: retrying
    /// with the same key will not help.
    public var isAuthenticationFailure: Bool {
        guard case .connectFailed(let failures) = self, !failures.isEmpty else { return false }
        return failures.allSatisfy(\.reason.isAuthenticationFailure)
    }
}

/// Why one transport could not connect.
public struct TransportFailure: Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Error, Sendable, Equatable, CustomStringConvertible {
        /// The host name did not resolve.
        case nameResolution(String)
        /// TCP connection refused: nothing listens on the port.
        case connectionRefused
        /// Another socket error (unreachable network, reset).
        case network(String)
        /// No CONNACK within the connect timeout.
        case timedOut
        /// The TLS handshake failed (certificate not trusted, host name mismatch, protocol).
        case tls(String)
        /// The HTTP upgrade to a WebSocket was not accepted.
        case webSocketRejected(String)
        /// The hub answered CONNECT with a refusal.
        case refused(ConnAck.ReturnCode)
        /// The connection closed before CONNACK.
        case closedBeforeConnAck
        /// The token could not be made (the signer failed).
        case credentials(String)
        case other(String)

        public var description: String {
            switch self {
            case .nameResolution(let why): "the host name did not resolve (\(why))"
            case .connectionRefused: "connection refused: nothing listens on that port, or a firewall rejects it"
            case .network(let why): "network error: \(why)"
            case .timedOut: "no answer in time (TCP, TLS or CONNACK)"
            case .tls(let why): "TLS handshake failed: \(why); check the trusted CA and that the server certificate names the host"
            case .webSocketRejected(let why): "the WebSocket upgrade was refused: \(why)"
            case .refused(let code): Self.describe(code)
            case .closedBeforeConnAck: "the hub closed the connection before answering CONNECT"
            case .credentials(let why): "could not make a SAS token: \(why)"
            case .other(let why): why
            }
        }

        public var isAuthenticationFailure: Bool {
            if case .refused(let code) = self { return code == .badUsernameOrPassword || code == .notAuthorized }
            return false
        }

        static func describe(_ code: ConnAck.ReturnCode) -> String {
            switch code {
            case .accepted: "accepted"
            case .unacceptableProtocolVersion: "refused: unacceptable protocol version (CONNACK 1)"
            case .identifierRejected: "refused: client identifier rejected (CONNACK 2)"
            case .serverUnavailable: "refused: server unavailable (CONNACK 3)"
            case .badUsernameOrPassword: "refused: bad user name or password (CONNACK 4); check the host name and the SAS token"
            case .notAuthorized: "not authorized (CONNACK 5): the hub refused the SAS token; check the key, the device or module id, and that the identity exists and is enabled"
            }
        }
    }

    public var transport: IoTClientTransport
    public var host: String
    public var port: Int
    public var reason: Reason

    public init(transport: IoTClientTransport, host: String, port: Int, reason: Reason) {
        self.transport = transport
        self.host = host
        self.port = port
        self.reason = reason
    }

    public var description: String { "\(transport) to \(host):\(port): \(reason)" }
}

extension Duration {
    var formattedSeconds: String {
        let (s, atto) = components
        if atto == 0 { return "\(s) s" }
        return "\(Double(s) + Double(atto) / 1e18) s"
    }

    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
