import Foundation
import IoTProtocol
import Testing

@Suite("IoT Hub error codes")
struct IoTHubErrorCodeTests {
    @Test("the HTTP status is the first three digits", arguments: IoTHubErrorCode.allCases)
    func httpStatus(_ code: IoTHubErrorCode) {
        #expect(code.httpStatus == code.rawValue / 1000)
        #expect((400...599).contains(code.httpStatus))
    }

    @Test("statuses and names of well-known codes")
    func knownCodes() {
        #expect(IoTHubErrorCode.deviceNotFound.httpStatus == 404)
        #expect(IoTHubErrorCode.deviceNotFound.name == "DeviceNotFound")
        #expect(IoTHubErrorCode.preconditionFailed.httpStatus == 412)
        #expect(IoTHubErrorCode.preconditionFailed.name == "PreconditionFailed")
        #expect(IoTHubErrorCode.iotHubUnauthorized.name == "IotHubUnauthorized")
        #expect(IoTHubErrorCode.throttlingException.httpStatus == 429)
        #expect(IoTHubErrorCode.gatewayTimeout.httpStatus == 504)
        #expect(IoTHubErrorCode(rawValue: 409001) == .deviceAlreadyExists)
    }

    @Test("names are unique PascalCase words", arguments: IoTHubErrorCode.allCases)
    func names(_ code: IoTHubErrorCode) {
        #expect(code.name.first?.isUppercase == true)
        #expect(code.name.allSatisfy { $0.isLetter })
        #expect(IoTHubErrorCode.allCases.filter { $0.name == code.name }.count == 1)
    }

    @Test("every connection code has a root cause and a resolution", arguments: [404104, 401003, 409002, 500001, 500008])
    func connectionCodes(_ raw: Int) throws {
        let code = try #require(IoTHubErrorCode(rawValue: raw))
        let cause = try #require(code.rootCause)
        let resolution = try #require(code.resolution)
        #expect(cause.count > 40)
        #expect(resolution.count > 40)
    }

    @Test("codes that are not connection codes have neither")
    func otherCodes() {
        let connection: Set<Int> = [404104, 401003, 409002, 500001, 500008]
        for code in IoTHubErrorCode.allCases where !connection.contains(code.rawValue) {
            #expect(code.rootCause == nil && code.resolution == nil, "\(code)")
        }
    }

    @Test("codes encode as their number in JSON")
    func codable() throws {
        let json = try JSONEncoder().encode([IoTHubErrorCode.deviceConnectionClosedRemotely])
        #expect(String(decoding: json, as: UTF8.self) == "[404104]")
        #expect(try JSONDecoder().decode([IoTHubErrorCode].self, from: Data("[409002]".utf8)) == [.linkCreationConflict])
    }
}
