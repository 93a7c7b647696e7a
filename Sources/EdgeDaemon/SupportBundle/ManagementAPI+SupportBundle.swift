import NIOHTTP1

/// What the management API needs to make a support bundle: the config as last applied, the
/// runtime, and the daemon's status.
public struct SupportBundleService: Sendable {
    public let config: @Sendable () -> EdgeConfig
    public let runtime: ModuleRuntime
    public let system: SystemControl?
    public let check: CheckRunner

    public init(config: @escaping @Sendable () -> EdgeConfig, runtime: ModuleRuntime, system: SystemControl?,
                check: CheckRunner = CheckRunner()) {
        self.config = config
        self.runtime = runtime
        self.system = system
        self.check = check
    }

    /// The bundle's zip, made in memory.
    public func zip(_ options: SupportBundle.Options) async throws -> [UInt8] {
        let config = config()
        let bundle = SupportBundle(options: options, configPath: config.file, config: config,
                                   source: RuntimeBundleSource(runtime: runtime, system: system), check: check)
        let zip = try ZipBundleWriter()
        await bundle.write(to: zip)
        guard let bytes = zip.finish() else { throw DaemonError("the support bundle's zip could not be read back from memory") }
        return bytes
    }
}

/// `GET /systeminfo/supportbundle?since=&until=&iothub_hostname=&edge_runtime_only=`, as
/// edgelet serves it for edgeAgent's `UploadSupportBundle`: 200 with the zip
/// (`application/zip`); `since` defaults to one day ago.
extension ManagementAPI {
    func supportBundle(_ request: EdgeRequest) async throws -> EdgeResponse {
        guard let supportBundle else { return .error(.notFound, "support bundles are not served by this daemon") }
        var options = SupportBundle.Options()
        for name in ["since", "until"] {
            guard let text = request.query[name], !text.isEmpty else { continue }
            guard let t = Self.time(text) else {
                throw RequestError(message: "invalid parameter: \(name) (\(text)): use a duration before now (6h, 1d), RFC 3339 or unix seconds")
            }
            if name == "since" { options.since = t } else { options.until = t }
        }
        if let text = request.query["edge_runtime_only"], !text.isEmpty {
            guard let flag = Bool(text.lowercased()) else { throw RequestError(message: "invalid parameter: edge_runtime_only (\(text)): use true or false") }
            options.edgeRuntimeOnly = flag
        }
        if let host = request.query["iothub_hostname"], !host.isEmpty { options.iothubHostname = host }
        let bytes = try await supportBundle.zip(options)
        logger.info("Support bundle made through the management API: \(bytes.count) bytes (peer pid \(request.peerPID.map(String.init) ?? "?"))")
        return EdgeResponse(status: .ok, headers: ["Content-Type": "application/zip",
                                                   "Content-Disposition": "attachment; filename=\"support_bundle.zip\""],
                            body: .bytes(bytes))
    }
}
