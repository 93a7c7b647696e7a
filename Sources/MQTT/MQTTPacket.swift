import NIOCore

/// An MQTT 3.1.1 control packet as a value. The codec turns bytes into these and back;
/// nothing here does I/O, so the decoder can be fuzzed and property-tested.
/// Spec: https://docs.oasis-open.org/mqtt/mqtt/v3.1.1/os/mqtt-v3.1.1-os.html
public enum MQTTPacket: Sendable, Equatable {
    case connect(Connect)
    case connack(ConnAck)
    case publish(Publish)
    case puback(packetID: UInt16)
    case pubrec(packetID: UInt16)
    case pubrel(packetID: UInt16)
    case pubcomp(packetID: UInt16)
    case subscribe(Subscribe)
    case suback(SubAck)
    case unsubscribe(Unsubscribe)
    case unsuback(packetID: UInt16)
    case pingreq
    case pingresp
    case disconnect

    /// The fixed-header type nibble, used in logs and error messages.
    public var typeName: String {
        switch self {
        case .connect: "CONNECT"
        case .connack: "CONNACK"
        case .publish: "PUBLISH"
        case .puback: "PUBACK"
        case .pubrec: "PUBREC"
        case .pubrel: "PUBREL"
        case .pubcomp: "PUBCOMP"
        case .subscribe: "SUBSCRIBE"
        case .suback: "SUBACK"
        case .unsubscribe: "UNSUBSCRIBE"
        case .unsuback: "UNSUBACK"
        case .pingreq: "PINGREQ"
        case .pingresp: "PINGRESP"
        case .disconnect: "DISCONNECT"
        }
    }
}

public enum QoS: UInt8, Sendable, Equatable, Comparable {
    case atMostOnce = 0
    case atLeastOnce = 1
    case exactlyOnce = 2

    public static func < (lhs: QoS, rhs: QoS) -> Bool { lhs.rawValue < rhs.rawValue }
}

public struct Connect: Sendable, Equatable {
    public struct Will: Sendable, Equatable {
        public var topic: String
        public var payload: [UInt8]
        public var qos: QoS
        public var retain: Bool
        public init(topic: String, payload: [UInt8], qos: QoS, retain: Bool) {
            self.topic = topic; self.payload = payload; self.qos = qos; self.retain = retain
        }
    }

    public var protocolName: String
    public var protocolLevel: UInt8
    public var cleanSession: Bool
    public var keepAliveSeconds: UInt16
    public var clientID: String
    public var will: Will?
    public var username: String?
    public var password: [UInt8]?

    public init(protocolName: String = "MQTT", protocolLevel: UInt8 = 4, cleanSession: Bool,
                keepAliveSeconds: UInt16, clientID: String, will: Will? = nil,
                username: String? = nil, password: [UInt8]? = nil) {
        self.protocolName = protocolName
        self.protocolLevel = protocolLevel
        self.cleanSession = cleanSession
        self.keepAliveSeconds = keepAliveSeconds
        self.clientID = clientID
        self.will = will
        self.username = username
        self.password = password
    }
}

public struct ConnAck: Sendable, Equatable {
    /// CONNACK return codes of MQTT 3.1.1 §3.2.2.3.
    public enum ReturnCode: UInt8, Sendable, Equatable {
        case accepted = 0
        case unacceptableProtocolVersion = 1
        case identifierRejected = 2
        case serverUnavailable = 3
        case badUsernameOrPassword = 4
        case notAuthorized = 5
    }

    public var sessionPresent: Bool
    public var returnCode: ReturnCode

    public init(sessionPresent: Bool, returnCode: ReturnCode) {
        self.sessionPresent = sessionPresent
        self.returnCode = returnCode
    }
}

public struct Publish: Sendable, Equatable {
    public var topic: String
    public var payload: ByteBuffer
    public var qos: QoS
    public var retain: Bool
    public var duplicate: Bool
    /// Present exactly when `qos > .atMostOnce`.
    public var packetID: UInt16?

    public init(topic: String, payload: ByteBuffer, qos: QoS = .atMostOnce, retain: Bool = false,
                duplicate: Bool = false, packetID: UInt16? = nil) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.duplicate = duplicate
        self.packetID = packetID
    }
}

public struct Subscribe: Sendable, Equatable {
    public struct Request: Sendable, Equatable {
        public var topicFilter: String
        public var qos: QoS
        public init(topicFilter: String, qos: QoS) { self.topicFilter = topicFilter; self.qos = qos }
    }

    public var packetID: UInt16
    public var requests: [Request]

    public init(packetID: UInt16, requests: [Request]) {
        self.packetID = packetID
        self.requests = requests
    }
}

public struct SubAck: Sendable, Equatable {
    /// One per requested filter: the granted QoS, or `nil` for failure (0x80).
    public var packetID: UInt16
    public var results: [QoS?]

    public init(packetID: UInt16, results: [QoS?]) {
        self.packetID = packetID
        self.results = results
    }
}

public struct Unsubscribe: Sendable, Equatable {
    public var packetID: UInt16
    public var topicFilters: [String]

    public init(packetID: UInt16, topicFilters: [String]) {
        self.packetID = packetID
        self.topicFilters = topicFilters
    }
}
