import HubServer
import IoTProtocol
import Testing

@Suite("Disconnect reasons")
struct DisconnectReasonTests {
    @Test("each reason maps to the IoT Hub error code the connection log reports", arguments: [
        (DisconnectReason.clientDisconnected, nil),
        (.hubShuttingDown, nil),
        (.socketClosed, IoTHubErrorCode.deviceConnectionClosedRemotely),
        (.keepAliveExpired(seconds: 60), .deviceConnectionClosedRemotely),
        (.protocolViolation("x"), .deviceConnectionClosedRemotely),
        (.topicNotAllowed("x"), .deviceConnectionClosedRemotely),
        (.unauthorized("x"), .iotHubUnauthorized),
        (.replacedByNewConnection, .linkCreationConflict),
        (.serverError("x"), .serverError),
        (.connectTimeout, .genericTimeout),
    ])
    func errorCode(reason: DisconnectReason, code: IoTHubErrorCode?) {
        #expect(reason.errorCode == code)
        if let code = reason.errorCode {
            #expect(code.rootCause != nil && code.resolution != nil, "\(code.rawValue) needs a root cause and a resolution")
        }
    }

    @Test("descriptions say what happened and keep the detail")
    func descriptions() {
        #expect(DisconnectReason.clientDisconnected.description == "the client sent DISCONNECT")
        #expect(DisconnectReason.keepAliveExpired(seconds: 60).description == "no packet within 1.5 × the keep-alive of 60 s")
        #expect(DisconnectReason.unauthorized("token expired").description == "unauthorized: token expired")
        #expect(DisconnectReason.topicNotAllowed("devices/x").description.contains("devices/x"))
        #expect(DisconnectReason.protocolViolation("QoS 2").description == "protocol violation: QoS 2")
    }
}
