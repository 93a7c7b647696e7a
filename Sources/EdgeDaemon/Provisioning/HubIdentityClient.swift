import AsyncHTTPClient
import IoTProtocol
import NIOCore
import NIOHTTP1
import NIOSSL

/// The hub's registry, seen from the edge device: the device's own SAS token (`sr =
/// {hub}/devices/{device}`, no policy name) lists, creates and deletes its module identities,
/// as edgelet does (api-version 2021-04-12, HTTPS on the hub's port 443). The hub's CA comes
/// from `trust_bundle_cert`, so that TLS verifies against the hub's own certificate.
public final class HubIdentityClient: IdentityProvider, @unchecked Sendable {
    public let device: DeviceCredentials
    private let http: HTTPClient
    private let timeout: TimeAmount

    public init(device: DeviceCredentials, trustBundlePEM: String?, timeout: TimeAmount = .seconds(10)) throws {
        self.device = device
        self.timeout = timeout
        var tls = TLSConfiguration.makeClientConfiguration()
        if let pem = trustBundlePEM {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))
        }
        var config = HTTPClient.Configuration(tlsConfiguration: tls)
        config.timeout.connect = .seconds(5)
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    public func shutdown() async { try? await http.shutdown() }

    private var base: String {
        device.httpsPort == 443 ? "https://\(device.hubHostname)" : "https://\(device.hubHostname):\(device.httpsPort)"
    }

    private func path(_ module: String?) -> String {
        var p = "/devices/" + PercentEncoding.encode(device.deviceID) + "/modules"
        if let module { p += "/" + PercentEncoding.encode(module) }
        return p + "?api-version=2021-04-12"
    }

    private func authorization() -> String {
        let expiry = Int64(RFC3339.now()) + 3600
        return SASToken(resource: "\(device.hubHostname)/devices/\(device.deviceID)", key: device.key, expiry: expiry)?.text ?? ""
    }

    private func send(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil,
                      headers: [(String, String)] = []) async throws -> (UInt, [UInt8]) {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: authorization())
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "outpost-iotedged/\(EdgeDaemonVersion.text)")
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        do { response = try await http.execute(request, timeout: timeout) } catch {
            throw IdentityError("cannot reach the hub at \(base): \(error). Check that the hub runs and that this device reaches it on port \(device.httpsPort) (DNS, routes, firewall, proxy)", unreachable: true)
        }
        let bytes = try await response.body.collect(upTo: 4 << 20)
        return (response.status.code, Array(bytes.readableBytesView))
    }

    private func failure(_ what: String, _ status: UInt, _ body: [UInt8]) -> IdentityError {
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        var hint = ""
        if status == 401 {
            hint = " The device's key was refused: check provisioning's key against `iothub device show \(device.deviceID)`."
        } else if status == 404 {
            hint = " Is \(device.deviceID) registered on the hub as an edge device (`iothub edge create \(device.deviceID)`)?"
        }
        return IdentityError("\(what) failed: the hub answered \(status) \(text).\(hint)")
    }

    public func listModules() async throws -> [ModuleIdentity] {
        let (status, body) = try await send(.GET, path(nil))
        guard status == 200 else { throw failure("listing the modules of \(device.deviceID)", status, body) }
        let modules = try JSONText.decode([HubModuleJSON].self, from: body)
        return modules.compactMap { $0.identity }
    }

    public func ensureModule(_ moduleId: String) async throws -> ModuleIdentity {
        let (status, body) = try await send(.GET, path(moduleId))
        if status == 200, let m = try? JSONText.decode(HubModuleJSON.self, from: body).identity { return m }
        guard status == 404 || status == 200 else { throw failure("reading module \(moduleId)", status, body) }
        let spec = try JSONText.encode(["moduleId": moduleId, "managedBy": "iotEdge"])
        let (s2, b2) = try await send(.PUT, path(moduleId), body: spec)
        guard s2 == 200 || s2 == 201 else { throw failure("creating module \(moduleId)", s2, b2) }
        guard let m = try? JSONText.decode(HubModuleJSON.self, from: b2).identity else {
            throw IdentityError("the hub's answer for module \(moduleId) has no symmetric key")
        }
        return m
    }

    public func deleteModule(_ moduleId: String) async throws {
        let (status, body) = try await send(.DELETE, path(moduleId), headers: [("If-Match", "\"*\"")])
        guard status == 204 || status == 200 || status == 404 else { throw failure("deleting module \(moduleId)", status, body) }
    }
}

/// The registry's module JSON, the parts the daemon reads.
struct HubModuleJSON: Decodable {
    struct Authentication: Decodable {
        struct SymmetricKey: Decodable { var primaryKey: String? }
        var symmetricKey: SymmetricKey?
    }
    var moduleId: String?
    var generationId: String?
    var managedBy: String?
    var authentication: Authentication?

    var identity: ModuleIdentity? {
        guard let moduleId, let key = authentication?.symmetricKey?.primaryKey, !key.isEmpty else { return nil }
        return ModuleIdentity(moduleId: moduleId, generationId: generationId ?? "", primaryKey: key, managedBy: managedBy)
    }
}
