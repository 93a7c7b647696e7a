import Foundation
import IoTProtocol
import NIOHTTP1

/// An error the REST API returns, rendered in IoT Hub's shape:
/// `{"Message":"ErrorCode:DeviceNotFound;…","ExceptionMessage":"Tracking ID:…"}` with an
/// `iothub-errorcode` header, and the HTTP status the code implies.
public struct HubError: Error, Sendable, CustomStringConvertible {
    public var code: IoTHubErrorCode
    public var message: String

    public init(_ code: IoTHubErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue) \(code.name): \(message)" }

    public var response: HTTPResponse {
        let tracking = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let stamp = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false))
        let body: [String: Any] = [
            "Message": "ErrorCode:\(code.name);\(message)",
            "ExceptionMessage": "Tracking ID:\(tracking)-G:0-TimeStamp:\(stamp)",
            "errorCode": code.rawValue,
        ]
        var headers = HTTPHeaders()
        headers.add(name: "iothub-errorcode", value: code.name)
        return .json(body, status: HTTPResponseStatus(statusCode: code.httpStatus), headers: headers)
    }

    static func argumentInvalid(_ message: String) -> HubError { HubError(.argumentInvalid, message) }
}
