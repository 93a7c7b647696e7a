import AsyncHTTPClient
import EdgeAgent
import EdgeModule
import Foundation
import IoTClient
import Logging
import NIOCore
import NIOSSL
import Twin

/// edgeAgent's direct methods, as IoT Edge 1.5 names them (case-insensitive): `ping`,
/// `RestartModule`, `GetModuleLogs`, `UploadModuleLogs`, `UploadSupportBundle`,
/// `GetTaskStatus`. Errors answer 400 (a bad request) or 500 with `{"message": …}`.
struct AgentMethods: Sendable {
    let agent: Agent
    let management: EdgeAPIClient
    let hub: String
    let device: String
    let uploads: BlobUploader
    let tasks = BackgroundTasks()
    let logger: Logger

    func handle(_ request: MethodRequest) async -> MethodResponse {
        logger.info("Received request \(request.name)\(request.payload == .null ? "" : " with payload \(request.payload.jsonText.prefix(500))")")
        do {
            switch request.name.lowercased() {
            case "ping":
                return MethodResponse(status: 200, payload: .null)
            case "restartmodule":
                guard let id = request.payload["id"]?.stringValue, !id.isEmpty else {
                    throw LogsRequest.Invalid(description: "RestartModule needs {\"schemaVersion\": \"1.0\", \"id\": \"<module>\"}")
                }
                try await agent.restartModule(id)
                return MethodResponse(status: 200, payload: .null)
            case "getmodulelogs":
                return MethodResponse(status: 200, payload: try await moduleLogs(LogsRequest(payload: request.payload)))
            case "uploadmodulelogs":
                let logs = try LogsRequest(payload: request.payload, needsSASURL: true)
                return MethodResponse(status: 200, payload: await tasks.run("upload logs") { try await self.uploadLogs(logs) })
            case "uploadsupportbundle":
                let p = request.payload
                guard let sas = p["sasUrl"]?.stringValue, sas.hasPrefix("https://") || sas.hasPrefix("http://") else {
                    throw LogsRequest.Invalid(description: "sasUrl is missing: give the SAS URL of a blob container (iothub files sas --container NAME)")
                }
                let query = supportBundleQuery(p)
                return MethodResponse(status: 200, payload: await tasks.run("upload support bundle") {
                    let zip = try await self.management.bytes("/systeminfo/supportbundle?\(query)")
                    try await self.uploads.put(containerURL: sas, blob: self.blobName("supportbundle", ext: "zip"), bytes: zip, contentType: "application/zip")
                })
            case "gettaskstatus":
                guard let id = request.payload["correlationId"]?.stringValue, !id.isEmpty else {
                    throw LogsRequest.Invalid(description: "GetTaskStatus needs {\"schemaVersion\": \"1.0\", \"correlationId\": \"…\"}")
                }
                return MethodResponse(status: 200, payload: await tasks.status(id))
            default:
                throw LogsRequest.Invalid(description: "Command '\(request.name)' not found. The supported commands are - ping,RestartModule,GetModuleLogs,UploadModuleLogs,UploadSupportBundle,GetTaskStatus")
            }
        } catch let invalid as LogsRequest.Invalid {
            logger.warning("Error handling request \(request.name): \(invalid.description)")
            return MethodResponse(status: 400, payload: ["message": .string(invalid.description)])
        } catch {
            logger.warning("Error handling request \(request.name): \(error)")
            return MethodResponse(status: 500, payload: ["message": .string("\(error)")])
        }
    }

    private func moduleLogs(_ request: LogsRequest) async throws -> JSONValue {
        var answers: [JSONValue] = []
        for (item, module) in try await targets(request) {
            let bytes = try await logBody(module, item: item, request: request)
            let id = JSONValue.string(module)
            if bytes.count > ModuleLogPayload.maxBytes {
                answers.append(["id": id, "payload": .string(ModuleLogPayload.tooLarge(bytes.count, item: item))])
            } else if request.encoding == .gzip {
                answers.append(["id": id, "payloadBytes": .string(Data(bytes).base64EncodedString())])
            } else {
                answers.append(["id": id, "payload": .string(String(decoding: bytes, as: UTF8.self))])
            }
        }
        return .array(answers)
    }

    private func uploadLogs(_ request: LogsRequest) async throws {
        for (item, module) in try await targets(request) {
            let bytes = try await logBody(module, item: item, request: request)
            let ext = (request.contentType == .json ? "json" : "log") + (request.encoding == .gzip ? ".gz" : "")
            try await uploads.put(containerURL: request.sasURL!, blob: blobName(module, ext: ext), bytes: bytes,
                                  contentType: request.encoding == .gzip ? "application/gzip" : (request.contentType == .json ? "application/json" : "text/plain"))
        }
    }

    /// Each (item, module) pair: an item's id is a regular expression over the modules that exist.
    private func targets(_ request: LogsRequest) async throws -> [(LogsRequest.Item, String)] {
        let names = try await agent.moduleNames()
        var out: [(LogsRequest.Item, String)] = []
        for item in request.items {
            let matched = LogsRequest.matching(item.id, in: names)
            guard !matched.isEmpty else {
                throw LogsRequest.Invalid(description: "no module matches id \"\(item.id)\"; the modules are \(names.sorted().joined(separator: ", "))")
            }
            out += matched.map { (item, $0) }
        }
        return out
    }

    private func logBody(_ module: String, item: LogsRequest.Item, request: LogsRequest) async throws -> [UInt8] {
        var query = "timestamps=true"
        if let tail = item.tail { query += "&tail=\(tail)" }
        if let since = item.since { query += "&since=\(EdgeAPIClient.segment(since))" }
        if let until = item.until { query += "&until=\(EdgeAPIClient.segment(until))" }
        let text = try await management.bytes("/modules/\(EdgeAPIClient.segment(module))/logs?\(query)", limit: 64 << 20)
        let lines = String(decoding: text, as: UTF8.self).split(separator: "\n")
        let kept = ModuleLogPayload.filter(lines, logLevel: item.logLevel, regex: item.regex)
        let body = ModuleLogPayload.body(kept, contentType: request.contentType, hub: hub, device: device, module: module)
        return request.encoding == .gzip ? try Gzip.compress(body) : body
    }

    private func supportBundleQuery(_ p: JSONValue) -> String {
        var parts: [String] = []
        if let since = p["since"]?.stringValue { parts.append("since=\(EdgeAPIClient.segment(since))") }
        if let until = p["until"]?.stringValue { parts.append("until=\(EdgeAPIClient.segment(until))") }
        if case .bool(let only)? = p["edgeRuntimeOnly"] { parts.append("edge_runtime_only=\(only)") }
        parts.append("iothub_hostname=\(EdgeAPIClient.segment(hub))")
        return parts.joined(separator: "&")
    }

    /// `{hub}/{device}/{what}-{UTC time}.{ext}`, so one container serves a fleet.
    func blobName(_ what: String, ext: String) -> String {
        let stamp = Date().formatted(Date.ISO8601FormatStyle().year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.omitted))
        return "\(hub)/\(device)/\(what)-\(stamp).\(ext)"
    }
}

/// The uploads' background tasks, by correlation id, for `GetTaskStatus`.
actor BackgroundTasks {
    enum Status: String { case notStarted = "NotStarted", running = "Running", completed = "Completed", failed = "Failed", cancelled = "Cancelled", unknown = "Unknown" }
    private var tasks: [String: (operation: String, status: Status, message: String)] = [:]

    /// Starts `body`; answers `{status, message, correlationId}` at once.
    func run(_ operation: String, _ body: @escaping @Sendable () async throws -> Void) -> JSONValue {
        let id = UUID().uuidString.lowercased()
        tasks[id] = (operation, .running, "")
        Task {
            do {
                try await body()
                self.finish(id, .completed, "")
            } catch {
                self.finish(id, .failed, "Task \(operation) failed because of error \(error)")
            }
        }
        return answer(id)
    }

    func status(_ id: String) -> JSONValue {
        guard tasks[id] != nil else {
            return ["status": .string(Status.unknown.rawValue), "message": .string("no task with correlationId \(id) on this device (tasks are kept until edgeAgent restarts)"), "correlationId": .string(id)]
        }
        return answer(id)
    }

    private func finish(_ id: String, _ status: Status, _ message: String) {
        tasks[id]?.status = status
        tasks[id]?.message = message
    }

    private func answer(_ id: String) -> JSONValue {
        let t = tasks[id]!
        return ["status": .string(t.status.rawValue), "message": .string(t.message), "correlationId": .string(id)]
    }
}

/// Put Blob into a container given by its SAS URL (`https://host/…/container?sv=…&sig=…`): the
/// blob's name goes into the path, the SAS stays as the query. The hub's CA (the trust bundle)
/// verifies the storage endpoint as it does the hub.
struct BlobUploader: Sendable {
    let http: HTTPClient

    init(trustBundlePEM: String) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        let roots = try NIOSSLCertificate.fromPEMBytes(Array(trustBundlePEM.utf8))
        tls.trustRoots = .certificates(roots)
        var config = HTTPClient.Configuration(tlsConfiguration: tls)
        config.timeout = .init(connect: .seconds(20), read: .seconds(120))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    func put(containerURL: String, blob: String, bytes: [UInt8], contentType: String) async throws {
        let url = Self.blobURL(containerURL: containerURL, blob: blob)
        var request = HTTPClientRequest(url: url)
        request.method = .PUT
        request.headers.add(name: "x-ms-blob-type", value: "BlockBlob")
        request.headers.add(name: "x-ms-version", value: "2021-08-06")
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "Content-Length", value: String(bytes.count))
        request.body = .bytes(ByteBuffer(bytes: bytes))
        let response = try await http.execute(request, timeout: .seconds(300))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status.code == 201 || response.status.code == 200 else {
            throw EdgeModuleError("the storage endpoint answered \(response.status.code) to PUT \(blob): \(text.prefix(400))")
        }
    }

    static func blobURL(containerURL: String, blob: String) -> String {
        let encoded = blob.split(separator: "/").map { EdgeAPIClient.segment(String($0)) }.joined(separator: "/")
        guard let q = containerURL.firstIndex(of: "?") else {
            return containerURL.hasSuffix("/") ? containerURL + encoded : containerURL + "/" + encoded
        }
        var path = String(containerURL[..<q])
        if !path.hasSuffix("/") { path += "/" }
        return path + encoded + containerURL[q...]
    }
}
