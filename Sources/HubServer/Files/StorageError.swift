import Foundation
import NIOCore
import NIOHTTP1

/// An error of the blob endpoint, rendered as Azure Storage renders it (an `x-ms-error-code`
/// header and `<Error><Code>…</Code><Message>…</Message></Error>`), so that the Azure Storage
/// libraries raise it with its code and text. Azure's own message comes first; what exactly was
/// wrong and what to do follow on the next line.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponseStatus
    public var code: String
    public var message: String
    /// `AuthenticationErrorDetail`, Azure's field for why a signature was refused.
    public var authenticationDetail: String?

    public init(_ status: HTTPResponseStatus, _ code: String, _ message: String, authenticationDetail: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.authenticationDetail = authenticationDetail
    }

    public var description: String { "\(status.code) \(code): \(message)" + (authenticationDetail.map { " (\($0))" } ?? "") }

    static func authenticationFailed(_ detail: String) -> StorageError {
        StorageError(.forbidden, "AuthenticationFailed",
                     "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.\n\(detail)",
                     authenticationDetail: detail)
    }

    static func permissionMismatch(_ needed: String, _ given: String, _ operation: String) -> StorageError {
        StorageError(.forbidden, "AuthorizationPermissionMismatch",
                     "This request is not authorized to perform this operation using this permission.\n\(operation) needs sp to contain \(needed); this SAS has sp=\(given). Make a new one, e.g. `iothub files sas --container NAME --permissions \(needed == "w or c" ? "cw" : needed)`.")
    }

    static func invalidName(_ detail: String) -> StorageError {
        StorageError(.badRequest, "InvalidResourceName", "The specified resource name contains invalid characters.\n\(detail)")
    }

    static func blobNotFound(_ container: String, _ blob: String) -> StorageError {
        StorageError(.notFound, "BlobNotFound", "The specified blob does not exist.\nNo blob \(blob) in container \(container); `iothub files list --container \(container)` shows what is there.")
    }

    public var response: HTTPResponse {
        let requestID = UUID().uuidString.lowercased()
        var xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>\(Self.escape(code))</Code>"
        xml += "<Message>\(Self.escape(message))\nRequestId:\(requestID)\nTime:\(StorageSAS.format(Date()))</Message>"
        if let detail = authenticationDetail { xml += "<AuthenticationErrorDetail>\(Self.escape(detail))</AuthenticationErrorDetail>" }
        xml += "</Error>"
        var headers = StorageHeaders.common(requestID: requestID)
        headers.add(name: "x-ms-error-code", value: code)
        headers.add(name: "Content-Type", value: "application/xml")
        return HTTPResponse(status: status, headers: headers, body: .bytes(ByteBuffer(string: xml)))
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

/// Headers every Azure Storage response carries.
enum StorageHeaders {
    static let version = "2021-06-08"

    static func common(requestID: String = UUID().uuidString.lowercased()) -> HTTPHeaders {
        var h = HTTPHeaders()
        h.add(name: "x-ms-request-id", value: requestID)
        h.add(name: "x-ms-version", value: version)
        h.add(name: "Date", value: httpDate(Date()))
        return h
    }

    /// RFC 1123 (`Thu, 01 Jan 2030 00:00:00 GMT`), the form of Last-Modified and Date.
    static func httpDate(_ date: Date) -> String {
        var style = Date.VerbatimFormatStyle(
            format: "\(weekday: .abbreviated), \(day: .twoDigits) \(month: .abbreviated) \(year: .defaultDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits) GMT",
            locale: Locale(identifier: "en_US_POSIX"), timeZone: TimeZone(identifier: "GMT")!, calendar: Calendar(identifier: .gregorian))
        style.locale = Locale(identifier: "en_US_POSIX")
        return date.formatted(style)
    }
}
