import IoTProtocol
import NIOCore
import Twin

/// The system properties a device or module may set on a message it sends; they travel in the
/// topic's property bag under `$.mid`, `$.cid`, `$.ct`, `$.ce`, `$.on` and so on.
public struct MessageSystemProperties: Sendable, Equatable {
    public var messageID: String?
    public var correlationID: String?
    public var userID: String?
    /// For example `application/json`; routing queries on the body need it.
    public var contentType: String?
    /// For example `utf-8`.
    public var contentEncoding: String?
    /// A module's output (`$.on`); edgeHub routes on it.
    public var outputName: String?
    /// `$.exp`: when the message expires, as the SDKs write it.
    public var expiryTime: String?
    public var creationTime: String?

    public init(messageID: String? = nil, correlationID: String? = nil, userID: String? = nil,
                contentType: String? = nil, contentEncoding: String? = nil, outputName: String? = nil,
                expiryTime: String? = nil, creationTime: String? = nil) {
        self.messageID = messageID
        self.correlationID = correlationID
        self.userID = userID
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.outputName = outputName
        self.expiryTime = expiryTime
        self.creationTime = creationTime
    }

    /// By the names `PropertyBag` uses for them.
    var byBagName: [String: String] {
        var s: [String: String] = [:]
        s["message-id"] = messageID
        s["correlation-id"] = correlationID
        s["user-id"] = userID
        s["content-type"] = contentType
        s["content-encoding"] = contentEncoding
        s["output-name"] = outputName
        s["absolute-expiry-time"] = expiryTime
        s["iothub-creation-time-utc"] = creationTime
        return s
    }
}

/// A message the hub (or edgeHub) delivered: a cloud-to-device message, or a module input.
public struct IncomingMessage: Sendable, Equatable {
    public var payload: ByteBuffer
    /// Application properties.
    public var properties: [String: String]
    /// System properties by their Event Hubs names (`message-id`, `correlation-id`,
    /// `content-type`, …), plus `iothub-ack` for cloud-to-device messages.
    public var systemProperties: [String: String]
    /// The input it arrived on, for a module input; nil for a cloud-to-device message.
    public var inputName: String?

    public init(payload: ByteBuffer, properties: [String: String] = [:], systemProperties: [String: String] = [:],
                inputName: String? = nil) {
        self.payload = payload
        self.properties = properties
        self.systemProperties = systemProperties
        self.inputName = inputName
    }

    public var messageID: String? { systemProperties["message-id"] }
    public var correlationID: String? { systemProperties["correlation-id"] }
    public var contentType: String? { systemProperties["content-type"] }

    /// Reads the property bag of the topic it came on.
    init(payload: ByteBuffer, bag: Substring, inputName: String?) throws(PropertyBag.ParseError) {
        let parsed = try PropertyBag(parsing: bag)
        var application = parsed.application
        var system = parsed.system
        if let ack = application.removeValue(forKey: "iothub-ack") { system["iothub-ack"] = ack }
        self.init(payload: payload, properties: application, systemProperties: system, inputName: inputName)
    }
}

/// A direct method call from the hub.
public struct MethodRequest: Sendable, Equatable {
    public var name: String
    /// The JSON payload; `null` when there was none, a string when it was not JSON.
    public var payload: JSONValue
    public var requestID: String
}

/// What a method handler answers: an HTTP-like status and a JSON payload.
public struct MethodResponse: Sendable, Equatable {
    public var status: Int
    public var payload: JSONValue

    public init(status: Int, payload: JSONValue = .null) {
        self.status = status
        self.payload = payload
    }
}
