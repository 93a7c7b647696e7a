/// IoT Hub's error codes: the number, the name the REST API and the connection log use, the
/// HTTP status it maps to, and for the connection codes the root cause and resolution that an
/// operator reads in `iothub logs` (after the disconnect table of the troubleshooting guide).
public enum IoTHubErrorCode: Int, Sendable, CaseIterable, Codable {
    case argumentInvalid = 400004
    case etagDoesNotMatch = 400023
    case connectionForcefullyClosedOnNewConnection = 400027
    case iotHubUnauthorized = 401003
    case iotHubQuotaExceeded = 403002
    case deviceMaximumQueueDepthExceeded = 403004
    /// Outpost's own resources (alerts, metrics) that do not exist; IoT Hub has no such code.
    case notFound = 404000
    case deviceNotFound = 404001
    case moduleNotFound = 404010
    case deviceNotOnline = 404103
    case deviceConnectionClosedRemotely = 404104
    case deviceAlreadyExists = 409001
    case linkCreationConflict = 409002
    case moduleAlreadyExistsOnDevice = 409301
    case preconditionFailed = 412001
    case throttlingException = 429001
    case serverError = 500001
    case genericTimeout = 500008
    case gatewayTimeout = 504101

    public var name: String {
        switch self {
        case .argumentInvalid: "ArgumentInvalid"
        case .etagDoesNotMatch: "EtagDoesNotMatch"
        case .connectionForcefullyClosedOnNewConnection: "ConnectionForcefullyClosedOnNewConnection"
        case .iotHubUnauthorized: "IotHubUnauthorized"
        case .iotHubQuotaExceeded: "IotHubQuotaExceeded"
        case .deviceMaximumQueueDepthExceeded: "DeviceMaximumQueueDepthExceeded"
        case .notFound: "NotFound"
        case .deviceNotFound: "DeviceNotFound"
        case .moduleNotFound: "ModuleNotFound"
        case .deviceNotOnline: "DeviceNotOnline"
        case .deviceConnectionClosedRemotely: "DeviceConnectionClosedRemotely"
        case .deviceAlreadyExists: "DeviceAlreadyExists"
        case .linkCreationConflict: "LinkCreationConflict"
        case .moduleAlreadyExistsOnDevice: "ModuleAlreadyExistsOnDevice"
        case .preconditionFailed: "PreconditionFailed"
        case .throttlingException: "ThrottlingException"
        case .serverError: "ServerError"
        case .genericTimeout: "GenericTimeout"
        case .gatewayTimeout: "GatewayTimeout"
        }
    }

    /// The HTTP status is the first three digits of the code.
    public var httpStatus: Int { rawValue / 1000 }

    /// Why this error happens, in our words, for the codes a disconnect is classified with.
    public var rootCause: String? {
        switch self {
        case .deviceConnectionClosedRemotely:
            "The device's connection ended without the device saying why: the socket closed without an MQTT DISCONNECT, or no packet arrived within 1.5 times the keep-alive interval. Network loss and keep-alive timeouts are the usual causes."
        case .iotHubUnauthorized:
            "The hub could not authenticate the connection: the SAS token is expired, signed with a wrong key, made for another resource, or the device is unknown or disabled."
        case .linkCreationConflict:
            "A second connection arrived with the same client id; the hub keeps the newest and closes the older one with this code."
        case .serverError:
            "The hub failed internally while serving the connection; this is usually transient."
        case .genericTimeout:
            "The connection did not finish its TLS handshake or MQTT CONNECT in time."
        default: nil
        }
    }

    /// What to do about it.
    public var resolution: String? {
        switch self {
        case .deviceConnectionClosedRemotely:
            "Check that the device can reach the hub (iothub device show, then a test connection). If it connects but drops now and then, make sure the client sends PINGREQ within its keep-alive and that nothing on the path closes idle connections."
        case .iotHubUnauthorized:
            "Make sure the token has not expired and was signed with the device's current key for the right device or module, and that the device exists and is enabled (iothub device show ID). The Azure IoT SDKs renew tokens by themselves."
        case .linkCreationConflict:
            "Usually a side effect of another transient problem: the device reconnected before the hub saw the old connection drop, so look for other errors around it. Otherwise make sure each device opens a new connection only after the old one has dropped, and that no two devices share an identity."
        case .serverError:
            "Retry from the device (the Azure IoT SDKs do so by themselves). If it persists, read the hub's log (iothub serve's output) for the failure and report it."
        case .genericTimeout:
            "Follow the steps for 500001 ServerError; also check for a slow network or an overloaded hub."
        default: nil
        }
    }
}
