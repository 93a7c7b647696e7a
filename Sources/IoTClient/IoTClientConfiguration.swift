import IoTProtocol

/// How a client reaches the hub. The names are those of IoT Edge's `UpstreamProtocol`
/// setting (`Mqtt`, `MqttWs`), which edgeAgent and edgeHub read.
public enum IoTClientTransport: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// MQTT 3.1.1 over TLS, port 8883 by default.
    case mqtt = "Mqtt"
    /// MQTT 3.1.1 over a WebSocket (`/$iothub/websocket`, subprotocol `mqtt`) over TLS, port 443
    /// by default: the way out of networks that only let HTTPS through.
    case mqttWebSocket = "MqttWs"

    public var description: String { rawValue }

    /// Parses an `UpstreamProtocol` value, ignoring case. AMQP is not supported, so `Amqp` and
    /// `AmqpWs` give nil.
    public init?(upstreamProtocol: String) {
        switch upstreamProtocol.lowercased() {
        case "mqtt": self = .mqtt
        case "mqttws": self = .mqttWebSocket
        default: return nil
        }
    }
}

/// Everything an `IoTClient` needs to know about its identity and its hub.
public struct IoTClientConfiguration: Sendable {
    /// How the client proves who it is: a SAS token signed for each connection.
    public enum Credentials: Sendable {
        /// The identity's base64 symmetric key; the client signs its own tokens.
        case sharedAccessKey(String)
        /// Signs the string-to-sign (`{url-encoded resource}\n{expiry}`) and returns the base64
        /// HMAC-SHA256, as the edge workload API's `sign` does for a module.
        case signer(@Sendable (_ stringToSign: String) async throws -> String)
        /// Makes the whole `SharedAccessSignature …` token for a resource and an expiry (unix
        /// seconds).
        case tokenProvider(@Sendable (_ resource: String, _ expiry: Int64) async throws -> String)
    }

    /// The hub's host name: it goes into the MQTT user name and the token's resource.
    public var hostName: String
    /// Where to connect when set (an edgeHub, for a module or a downstream device), else
    /// `hostName`. TLS checks the server certificate against the name connected to.
    public var gatewayHostName: String?
    public var port: Int
    public var webSocketPort: Int
    public var deviceID: String
    public var moduleID: String?
    public var credentials: Credentials
    /// PEM text of the CA to trust instead of the system's roots (as the SDKs'
    /// `server_verification_cert`); nil trusts the system's roots.
    public var trustedCAPEM: String?
    /// Transports to try, in order, on every (re)connection.
    public var transports: [IoTClientTransport]
    public var keepAlive: Duration
    /// How long each token is valid. The client reconnects with a fresh token before it expires
    /// (120 s before, or after three quarters of a short lifetime), as the SDKs do.
    public var tokenLifetime: Duration
    /// How long a publish, subscription or twin request may wait for its answer, including the
    /// time spent reconnecting.
    public var operationTimeout: Duration
    /// How long TCP, TLS, the WebSocket upgrade and CONNACK may take together, per transport.
    public var connectTimeout: Duration
    /// Reconnect delays: `initial` doubling up to `maximum`, with jitter.
    public var reconnectBackoff: ReconnectBackoff
    /// The SDK's user agent; sent as `DeviceClientType` in the MQTT user name and shown by the
    /// hub as the connection's `sdkVersion`.
    public var productInfo: String
    /// An IoT Plug and Play model id, sent as `model-id` in the user name.
    public var modelID: String?
    /// MQTT clean session; false as in the SDKs, so that the hub keeps subscriptions and queued
    /// cloud-to-device messages across connections.
    public var cleanSession: Bool

    public static let defaultProductInfo = "Outpost.IoTClient/1.0 (Swift; Linux)"

    public init(hostName: String, gatewayHostName: String? = nil, port: Int = 8883, webSocketPort: Int = 443,
                deviceID: String, moduleID: String? = nil, credentials: Credentials,
                trustedCAPEM: String? = nil, transports: [IoTClientTransport] = [.mqtt, .mqttWebSocket],
                keepAlive: Duration = .seconds(60), tokenLifetime: Duration = .seconds(3600),
                operationTimeout: Duration = .seconds(30), connectTimeout: Duration = .seconds(20),
                reconnectBackoff: ReconnectBackoff = ReconnectBackoff(),
                productInfo: String = IoTClientConfiguration.defaultProductInfo,
                modelID: String? = nil, cleanSession: Bool = false) {
        self.hostName = hostName
        self.gatewayHostName = gatewayHostName
        self.port = port
        self.webSocketPort = webSocketPort
        self.deviceID = deviceID
        self.moduleID = moduleID
        self.credentials = credentials
        self.trustedCAPEM = trustedCAPEM
        self.transports = transports
        self.keepAlive = keepAlive
        self.tokenLifetime = tokenLifetime
        self.operationTimeout = operationTimeout
        self.connectTimeout = connectTimeout
        self.reconnectBackoff = reconnectBackoff
        self.productInfo = productInfo
        self.modelID = modelID
        self.cleanSession = cleanSession
    }

    /// A configuration from a device or module connection string
    /// (`HostName=…;DeviceId=…[;ModuleId=…];SharedAccessKey=…[;GatewayHostName=…]`).
    public init(connectionString: ConnectionString) throws(IoTClientError) {
        guard let deviceID = connectionString.deviceID, let key = connectionString.sharedAccessKey else {
            throw .invalidConfiguration("the connection string needs DeviceId and SharedAccessKey")
        }
        if connectionString.sharedAccessKeyName != nil {
            throw .invalidConfiguration("the connection string has SharedAccessKeyName: that is a service policy, not a device or module")
        }
        self.init(hostName: connectionString.hostName, gatewayHostName: connectionString.gatewayHostName,
                  deviceID: deviceID, moduleID: connectionString.moduleID, credentials: .sharedAccessKey(key))
    }

    public var identity: IdentityID { IdentityID(deviceID: deviceID, moduleID: moduleID) }

    /// The host the client opens connections to.
    public var connectHost: String { gatewayHostName ?? hostName }

    public func port(for transport: IoTClientTransport) -> Int {
        transport == .mqtt ? port : webSocketPort
    }

    func validate() throws(IoTClientError) {
        guard !hostName.isEmpty else { throw .invalidConfiguration("the host name is empty") }
        guard IdentityID.isValid(deviceID) else {
            throw .invalidConfiguration("device id \"\(deviceID)\" is not valid: \(IdentityID.validityRule)")
        }
        if let moduleID, !IdentityID.isValid(moduleID) {
            throw .invalidConfiguration("module id \"\(moduleID)\" is not valid: \(IdentityID.validityRule)")
        }
        if case .sharedAccessKey(let key) = credentials, !SymmetricKeyGenerator.isValid(key) {
            throw .invalidConfiguration("the shared access key is not base64 of 16 to 64 bytes")
        }
        guard !transports.isEmpty else { throw .invalidConfiguration("no transport to connect with") }
        for p in [port, webSocketPort] where !(1...65535).contains(p) {
            throw .invalidConfiguration("port \(p) is not a port number (1 to 65535)")
        }
        guard keepAlive >= .seconds(1), keepAlive <= .seconds(65535) else {
            throw .invalidConfiguration("keep-alive must be 1 to 65535 seconds")
        }
        guard tokenLifetime >= .seconds(2) else { throw .invalidConfiguration("token lifetime must be at least 2 seconds") }
    }
}
