import IoTProtocol
import Logging
import NIOHTTP1

/// The management API on the management socket: what edgeAgent and the `iotedge` CLI use to
/// list, create, update, start, stop, restart and remove modules and read their logs, as
/// edgelet serves it (`?api-version=` is accepted and ignored).
///
/// | method and path | answer |
/// | --- | --- |
/// | `GET /modules` | 200 `{"modules":[ModuleDetails]}` |
/// | `POST /modules` | 201 `ModuleDetails`; 409 if it exists |
/// | `GET /modules/{name}` | 200 `ModuleDetails` |
/// | `PUT /modules/{name}?start=true` | 200 `ModuleDetails` |
/// | `DELETE /modules/{name}` | 204 |
/// | `POST /modules/{name}/start`, `/stop`, `/restart` | 204 |
/// | `POST /modules/{name}/prepareupdate` | 204 (nothing to pull) |
/// | `GET /modules/{name}/logs?since=&until=&tail=&follow=&timestamps=` | 200 text/plain lines, chunked |
/// | `PUT /modules/{name}/agentstatus` `{status, nextStartTime}` | 204: edgeAgent's backoff/failed |
/// | `GET /modules/{name}/env` | 200 `{"env":[{key, value}]}`, secrets redacted |
/// | `GET /systeminfo` | 200 `{osType, architecture, version, provisioning, …}` |
/// | `GET /systeminfo/supportbundle?since=&until=&iothub_hostname=&edge_runtime_only=` | 200 the zip (`SupportBundle`) |
/// | `GET /identities` | 200 `{"identities":[{moduleId, managedBy, generationId, authType}]}` |
/// | `POST /identities` `{moduleId}` | 200 identity (created on the hub if needed) |
/// | `PUT /identities/{name}` | 200 identity |
/// | `DELETE /identities/{name}` | 204 |
///
/// | `GET /system/status` | 200 `SystemStatus` |
/// | `PUT /system/loglevel` `{level}` | 204, kept for the next start |
/// | `POST /system/restart`, `/system/stop`, `/system/reprovision` | 202, then acts |
/// | `POST /system/reload` | 200 `ReloadResult` (`config apply`) |
///
/// Errors are `{"message": "…"}` with 400, 404, 409 or 500.
public struct ManagementAPI: EdgeHTTPHandler {
    public let runtime: ModuleRuntime
    public let identities: IdentityStore?
    public let systemInfo: SystemInfo
    public let system: SystemControl?
    public let supportBundle: SupportBundleService?
    let logger: Logger

    public init(runtime: ModuleRuntime, identities: IdentityStore?, systemInfo: SystemInfo, system: SystemControl? = nil,
                supportBundle: SupportBundleService? = nil, logger: Logger = Logger(label: "iotedged.mgmt")) {
        self.runtime = runtime
        self.supportBundle = supportBundle
        self.system = system
        self.identities = identities
        self.systemInfo = systemInfo
        self.logger = logger
    }

    public func handle(_ request: EdgeRequest) async -> EdgeResponse {
        let s = request.segments
        do {
            switch (request.method, s.count, s.first) {
            case (.GET, 1, "modules"):
                return .json(ModuleListJSON(modules: await runtime.list().map(ModuleDetailsJSON.init)))
            case (.POST, 1, "modules"):
                let spec = try decodeSpec(request.body)
                try await runtime.create(spec)
                logger.info("Module \(spec.name) created through the management API (peer pid \(request.peerPID.map(String.init) ?? "?"))")
                return .json(ModuleDetailsJSON(try await runtime.module(spec.name)), status: .created)
            case (.GET, 2, "modules"):
                return .json(ModuleDetailsJSON(try await runtime.module(s[1])))
            case (.PUT, 2, "modules"):
                var spec = try decodeSpec(request.body)
                if spec.name.isEmpty { spec.name = s[1] }
                guard spec.name == s[1] else { throw RuntimeError.invalidSpec("the body names \(spec.name), the path \(s[1])") }
                let start = try flag(request, "start") ?? false
                try await runtime.update(spec, start: start)
                return .json(ModuleDetailsJSON(try await runtime.module(spec.name)))
            case (.DELETE, 2, "modules"):
                try await runtime.remove(s[1])
                return .noContent
            case (.POST, 3, "modules"):
                switch s[2] {
                case "start": try await runtime.start(s[1])
                case "stop": try await runtime.stop(s[1], timeout: nil)
                case "restart": try await runtime.restart(s[1])
                case "prepareupdate": _ = try await runtime.module(s[1])
                default: return notFound(request)
                }
                logger.info("Module \(s[1]): \(s[2]) through the management API")
                return .noContent
            case (.PUT, 3, "modules") where s[2] == "agentstatus":
                let body = (try? JSONText.decode([String: String].self, from: request.body)) ?? [:]
                try await runtime.annotate(s[1], agentStatus: body["status"], nextStartTime: body["nextStartTime"].flatMap(RFC3339.parse))
                return .noContent
            case (.GET, 3, "modules") where s[2] == "env":
                guard let processes = runtime as? ProcessRuntime else { return notFound(request) }
                return .json(["env": try await processes.environment(s[1])])
            case (.GET, 3, "modules") where s[2] == "logs":
                let options = try logOptions(request)
                let lines = try await runtime.logs(s[1], options: options)
                return EdgeResponse(status: .ok, headers: ["Content-Type": "text/plain; charset=utf-8"], body: .lines(lines))
            case (.GET, 1, "systeminfo"):
                return .json(systemInfo)
            case (.GET, 2, "systeminfo") where s[1] == "supportbundle":
                return try await supportBundle(request)
            case (_, _, "identities"):
                return try await identity(request)
            case (_, 2, "system"):
                return try await systemRequest(request, s[1])
            default:
                return notFound(request)
            }
        } catch let error as RuntimeError {
            return .error(HTTPResponseStatus(statusCode: error.httpStatus), error.description)
        } catch let error as RequestError {
            return .error(.badRequest, error.message)
        } catch let error as IdentityError {
            return .error(error.unreachable ? .serviceUnavailable : .internalServerError, error.description)
        } catch {
            return .error(.internalServerError, "\(error)")
        }
    }

    struct RequestError: Error { var message: String }

    private func systemRequest(_ request: EdgeRequest, _ verb: String) async throws -> EdgeResponse {
        guard let system else { return .error(.notFound, "system control is not served by this daemon") }
        switch (request.method, verb) {
        case (.GET, "status"):
            return .json(await system.status())
        case (.PUT, "loglevel"):
            guard let body = try? JSONText.decode([String: String].self, from: request.body), let level = body["level"] else {
                throw RequestError(message: "the body must be {\"level\": \"fatal|error|warning|info|debug|verbose\"}")
            }
            try await system.setLogLevel(level)
            return .noContent
        case (.POST, "restart"):
            await system.restart()
            return EdgeResponse(status: .accepted)
        case (.POST, "stop"):
            await system.stop()
            return EdgeResponse(status: .accepted)
        case (.POST, "reprovision"):
            await system.reprovision()
            return EdgeResponse(status: .accepted)
        case (.POST, "reload"):
            return .json(try await system.reload())
        default:
            return notFound(request)
        }
    }

    private func notFound(_ request: EdgeRequest) -> EdgeResponse {
        .error(.notFound, "No route for \(request.method.rawValue) \(request.path)")
    }

    private func decodeSpec(_ body: [UInt8]) throws -> ModuleSpec {
        let json: ModuleSpecJSON
        do { json = try JSONText.decode(ModuleSpecJSON.self, from: body) } catch {
            throw RequestError(message: "invalid module spec: the body must be {\"name\", \"type\", \"config\": {\"settings\": {\"image\", \"createOptions\"}, \"env\": [{\"key\", \"value\"}]}}")
        }
        return try json.spec()
    }

    private func flag(_ request: EdgeRequest, _ name: String) throws -> Bool? {
        guard let v = request.query[name] else { return nil }
        switch v.lowercased() {
        case "true", "1", "": return true
        case "false", "0": return false
        default: throw RequestError(message: "invalid parameter: \(name)")
        }
    }

    func logOptions(_ request: EdgeRequest) throws -> LogOptions {
        var options = LogOptions()
        options.follow = try flag(request, "follow") ?? false
        options.timestamps = try flag(request, "timestamps") ?? false
        if let tail = request.query["tail"], tail != "all", !tail.isEmpty {
            guard let n = Int(tail), n >= 0 else { throw RequestError(message: "invalid parameter: tail") }
            options.tail = n
        }
        for name in ["since", "until"] {
            guard let text = request.query[name], !text.isEmpty else { continue }
            guard let t = Self.time(text) else { throw RequestError(message: "invalid parameter: \(name)") }
            if name == "since" { options.since = t } else { options.until = t }
        }
        return options
    }

    /// A point in time as `iotedge logs --since` takes it: unix seconds, RFC 3339, or a
    /// duration before now (`90s`, `10m`, `1h30m`, `2d`).
    public static func time(_ text: String, now: Double = RFC3339.now()) -> Double? {
        if let n = Double(text), n >= 0 { return n }
        if let t = RFC3339.parse(text) { return t }
        var total = 0.0, number = "", parts = 0
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        for c in text.lowercased() {
            if c.isNumber || c == "." { number.append(c); continue }
            guard let unit = units[c], let n = Double(number) else { return nil }
            total += n * unit
            number = ""
            parts += 1
        }
        guard number.isEmpty, parts > 0 else { return nil }
        return now - total
    }

    private func identity(_ request: EdgeRequest) async throws -> EdgeResponse {
        guard let identities else { return .error(.notFound, "identities are not managed by this daemon") }
        let s = request.segments
        switch (request.method, s.count) {
        case (.GET, 1):
            return .json(["identities": await identities.all().map(IdentityJSON.init)])
        case (.POST, 1):
            guard let spec = try? JSONText.decode(IdentitySpecJSON.self, from: request.body), let id = spec.moduleId, !id.isEmpty else {
                throw RequestError(message: "invalid identity spec: the body must be {\"moduleId\": …}")
            }
            return .json(IdentityJSON(try await identities.ensure(id)))
        case (.PUT, 2):
            return .json(IdentityJSON(try await identities.ensure(s[1])))
        case (.DELETE, 2):
            try await identities.remove(s[1])
            return .noContent
        default:
            return notFound(request)
        }
    }
}
