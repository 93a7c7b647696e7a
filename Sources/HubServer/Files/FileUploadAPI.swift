import Foundation
import IoTProtocol
import NIOHTTP1
import Twin

/// IoT Hub's device file upload, as azure-iot-device calls it with the device's SAS token:
/// `POST /devices/{d}/files` `{"blobName"}` answers where to upload (`https://{hostName}/
/// {containerName}/{blobName}{sasToken}`, a blob SAS good for an hour), and
/// `POST /devices/{d}/files/notifications` records how the upload went (204).
/// Device blobs go to the `fileupload` container as `{deviceId}/{blobName}`, as IoT Hub names them.
struct FileUploadAPI: Sendable {
    let hub: Hub

    static let container = "fileupload"
    /// IoT Hub's default SAS lifetime for file uploads.
    static let sasLifetime: TimeInterval = 3600

    /// `host[:port]/blobs`: IoT Hub's `hostName` is the storage account's host; here the account
    /// is a path on the hub's HTTPS listener, and SDKs join `https://` + hostName + `/` + container.
    static func storageHostName(_ config: HubConfiguration) -> String {
        config.host + (config.httpsPort == 443 ? "" : ":\(config.httpsPort)") + "/" + BlobStore.accountName
    }

    func storageInfo(_ device: String, _ r: HTTPRequest) async throws -> HTTPResponse {
        let body = try Self.object(r)
        guard let name = body["blobName"]?.stringValue, !name.isEmpty else {
            throw failed(device, "ingress", HubError.argumentInvalid("The body needs \"blobName\": the name to upload under, e.g. {\"blobName\": \"logs/today.txt\"}."))
        }
        let blob = "\(device)/\(name)"
        if let problem = BlobName.blobProblem(blob) {
            throw failed(device, "ingress", HubError.argumentInvalid("blobName \"\(name)\" is not usable: \(problem)"))
        }
        let now = Date()
        let sas = StorageSAS(resource: .blob, permissions: "rw", expiry: now.addingTimeInterval(Self.sasLifetime))
        let query = sas.signedQuery(canonicalResource: StorageSAS.canonicalResource(account: BlobStore.accountName, container: Self.container, blob: blob),
                                    base64Key: hub.blobs.key)
        let correlation = FileUploadCorrelation(deviceID: device, container: Self.container, blob: blob, issued: Int64(now.timeIntervalSince1970))
        let hostName = Self.storageHostName(hub.config)
        hub.diagnostics.record(DiagnosticRecord(category: .fileUploadOperations, operationName: "ingress", error: nil, deviceID: device, moduleID: nil,
                                                properties: ["protocol": "HTTP", "blobUri": .string("https://\(hostName)/\(Self.container)/\(Self.encodePath(blob))")]))
        return .jsonValue(["correlationId": .string(correlation.token(key: hub.blobs.key)), "hostName": .string(hostName),
                           "containerName": .string(Self.container), "blobName": .string(blob), "sasToken": .string("?" + query)])
    }

    func notify(_ device: String, _ r: HTTPRequest) async throws -> HTTPResponse {
        let body = try Self.object(r)
        guard let token = body["correlationId"]?.stringValue else {
            throw failed(device, "notify", HubError.argumentInvalid("The body needs \"correlationId\", the one get_storage_info_for_blob returned."))
        }
        guard let correlation = FileUploadCorrelation(token: token, key: hub.blobs.key) else {
            throw failed(device, "notify", HubError.argumentInvalid("correlationId \"\(token.prefix(40))…\" was not issued by this hub; pass the one get_storage_info_for_blob returned."))
        }
        guard correlation.deviceID == device else {
            throw failed(device, "notify", HubError.argumentInvalid("correlationId belongs to device \(correlation.deviceID), not \(device)."))
        }
        guard case .bool(let success)? = body["isSuccess"] else {
            throw failed(device, "notify", HubError.argumentInvalid("The body needs \"isSuccess\": true or false."))
        }
        let properties = hub.blobs.properties(correlation.container, correlation.blob)
        var record: [String: JSONValue] = [
            "deviceId": .string(device), "containerName": .string(correlation.container), "blobName": .string(correlation.blob),
            "blobUri": .string("https://\(Self.storageHostName(hub.config))/\(correlation.container)/\(Self.encodePath(correlation.blob))"),
            "isSuccess": .bool(success), "statusCode": body["statusCode"] ?? .null, "statusDescription": body["statusDescription"] ?? .null,
            "enqueuedTimeUtc": .string(TwinTime.format(Date())),
        ]
        if let properties {
            record["blobSizeInBytes"] = .number(Double(properties.size))
            record["lastUpdatedTime"] = .string(TwinTime.format(properties.lastModified))
        }
        try hub.fileUploadNotifications.append(.object(record))
        let detail = success ? "" : "the device reported failure: \(body["statusCode"].map { $0.jsonText } ?? "-") \(body["statusDescription"]?.stringValue ?? "")"
        hub.diagnostics.record(DiagnosticRecord(category: .fileUploadOperations, operationName: "notify", error: nil,
                                                level: success ? .information : .warning, detail: detail, deviceID: device, moduleID: nil,
                                                properties: ["protocol": "HTTP", "blobUri": record["blobUri"]!, "isSuccess": .bool(success)]))
        return HTTPResponse(status: .noContent)
    }

    /// Logs the refusal in FileUploadOperations, then hands it back to throw.
    private func failed(_ device: String, _ operation: String, _ error: HubError) -> HubError {
        hub.diagnostics.record(DiagnosticRecord(category: .fileUploadOperations, operationName: operation, error: error.code,
                                                detail: error.message, deviceID: device, moduleID: nil, properties: ["protocol": "HTTP"]))
        return error
    }

    /// A blob name as a URL path: each segment percent-encoded, the slashes kept.
    static func encodePath(_ blob: String) -> String {
        blob.split(separator: "/", omittingEmptySubsequences: false).map { PercentEncoding.encode(String($0)) }.joined(separator: "/")
    }

    static func object(_ r: HTTPRequest) throws -> [String: JSONValue] {
        guard let value = try? JSONValue(parsing: r.bodyData), case .object(let o) = value else {
            throw HubError.argumentInvalid("The request body must be a JSON object.")
        }
        return o
    }
}
