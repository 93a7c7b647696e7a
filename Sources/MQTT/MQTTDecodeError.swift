/// Why a byte stream is not valid MQTT 3.1.1. Each case names the rule broken, so that the
/// connection log can say why a client was disconnected.
public enum MQTTDecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    case reservedPacketType(UInt8)
    case invalidFixedHeaderFlags(packetType: String, flags: UInt8)
    case malformedRemainingLength
    case packetTooLarge(size: Int, limit: Int)
    case truncated(packetType: String, field: String)
    case trailingBytes(packetType: String, count: Int)
    case invalidUTF8(field: String)
    case invalidQoS(UInt8)
    case invalidConnectFlags(UInt8)
    case missingPacketID(packetType: String)
    case emptySubscription(packetType: String)
    case invalidTopic(String)

    public var description: String {
        switch self {
        case .reservedPacketType(let t): "reserved packet type \(t)"
        case .invalidFixedHeaderFlags(let p, let f): "invalid fixed header flags 0x\(String(f, radix: 16)) for \(p)"
        case .malformedRemainingLength: "malformed remaining length (more than 4 bytes)"
        case .packetTooLarge(let size, let limit): "packet of \(size) bytes exceeds the limit of \(limit) bytes"
        case .truncated(let p, let field): "\(p) ends before its \(field)"
        case .trailingBytes(let p, let n): "\(p) has \(n) unexpected trailing bytes"
        case .invalidUTF8(let field): "\(field) is not valid UTF-8"
        case .invalidQoS(let q): "invalid QoS \(q)"
        case .invalidConnectFlags(let f): "invalid CONNECT flags 0x\(String(f, radix: 16))"
        case .missingPacketID(let p): "\(p) has packet identifier 0"
        case .emptySubscription(let p): "\(p) has no topic filters"
        case .invalidTopic(let t): "invalid topic name \"\(t)\""
        }
    }
}
