import Crypto
import Logging
import NIOHTTP1

/// The workload API on the workload socket, what `IoTHubModuleClient.create_from_edge_environment()`
/// and edgeHub call (WIRE.md "Module client on an edge device"):
///
/// | method and path | body | answer |
/// | --- | --- | --- |
/// | `GET /trust-bundle` | | `{"certificate": PEM}`: the edge CA, then `trust_bundle_cert` |
/// | `POST /modules/{m}/genid/{g}/sign` | `{"keyId","algo":"HMACSHA256","data":base64}` | `{"digest": base64}` |
/// | `POST /modules/{m}/genid/{g}/certificate/server` | `{"commonName","expiration"}` | `{"certificate","privateKey":{"type":"key","bytes"},"expiration"}` |
/// | `GET /modules` | | the runtime's module list, as the management API's |
///
/// `sign` and `certificate/server` answer only the module's main process (`WorkloadCaller`);
/// anyone else gets 404 `{"message":"Module not found"}`.
public struct WorkloadAPI: EdgeHTTPHandler {
    public let runtime: ModuleRuntime
    public let identities: IdentityStore
    public let edgeCA: EdgeCA?
    /// `trust_bundle_cert`'s PEM: the hub's CA.
    public let trustBundlePEM: String?
    private let logger: Logger

    public init(runtime: ModuleRuntime, identities: IdentityStore, edgeCA: EdgeCA?, trustBundlePEM: String?,
                logger: Logger = Logger(label: "iotedged.workload")) {
        self.runtime = runtime
        self.identities = identities
        self.edgeCA = edgeCA
        self.trustBundlePEM = trustBundlePEM
        self.logger = logger
    }

    /// The trust bundle: the edge CA (which signs edgeHub's certificate) and the hub's CA.
    public var trustBundle: String {
        var parts: [String] = []
        if let ca = edgeCA?.certificatePEM { parts.append(ca.hasSuffix("\n") ? ca : ca + "\n") }
        if let hub = trustBundlePEM { parts.append(hub.hasSuffix("\n") ? hub : hub + "\n") }
        return parts.joined()
    }

    public func handle(_ request: EdgeRequest) async -> EdgeResponse {
        let s = request.segments
        switch (request.method, s.count) {
        case (.GET, 1) where s[0] == "trust-bundle":
            return .json(["certificate": trustBundle])
        case (.GET, 1) where s[0] == "modules":
            return .json(ModuleListJSON(modules: await runtime.list().map(ModuleDetailsJSON.init)))
        case (.POST, 5) where s[0] == "modules" && s[2] == "genid" && s[4] == "sign":
            if let refusal = await authorize(s[1], request) { return refusal }
            return await sign(module: s[1], request)
        case (.POST, 6) where s[0] == "modules" && s[2] == "genid" && s[4] == "certificate" && s[5] == "server":
            if let refusal = await authorize(s[1], request) { return refusal }
            return serverCertificate(module: s[1], request)
        case (.POST, 6) where s[0] == "modules" && s[2] == "genid" && s[4] == "certificate":
            return .error(.notImplemented, "certificate/\(s[5]) is not supported by Outpost: modules authenticate with SAS tokens (sign)")
        case (.POST, 5) where s[0] == "modules" && s[2] == "genid" && (s[4] == "encrypt" || s[4] == "decrypt"):
            return .error(.notImplemented, "\(s[4]) is not supported by Outpost yet")
        default:
            return .error(.notFound, "No route for \(request.method.rawValue) \(request.path)")
        }
    }

    /// nil when the caller is the module's main process; else the 404 and a log line.
    func authorize(_ moduleId: String, _ request: EdgeRequest) async -> EdgeResponse? {
        let name = WorkloadCaller.runtimeName(moduleId)
        let modulePID = await runtime.mainProcessID(name).map { Int32($0) }
        switch WorkloadCaller.check(module: name, callerPID: request.peerPID, modulePID: modulePID) {
        case .allowed:
            return nil
        case .denied(let caller, let module):
            logger.warning("\(WorkloadCaller.logLine(module: name, callerPID: caller, modulePID: module))")
            return .error(.notFound, "Module not found")
        }
    }

    struct SignRequest: Decodable {
        var keyId: String?
        var algo: String?
        var data: String?
    }

    func sign(module moduleId: String, _ request: EdgeRequest) async -> EdgeResponse {
        guard let body = try? JSONText.decode(SignRequest.self, from: request.body), let data64 = body.data else {
            return .error(.badRequest, "missing parameter: request body {\"keyId\",\"algo\",\"data\"}")
        }
        if let algo = body.algo, algo.uppercased() != "HMACSHA256" {
            return .error(.badRequest, "invalid parameter: algo \(algo) (only HMACSHA256)")
        }
        guard let data = Base64.decode(data64) else { return .error(.badRequest, "invalid parameter: data is not base64") }
        guard let identity = await identities.identity(for: moduleId), let key = Base64.decode(identity.primaryKey) else {
            logger.error("Workload API: no identity known for module \(moduleId); is it deployed, and was it provisioned on the hub?")
            return .error(.notFound, "Module not found")
        }
        let mac = HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: key))
        return .json(["digest": Base64.encode(Array(mac))])
    }

    struct CertificateRequest: Decodable {
        var commonName: String?
        var expiration: String?
    }

    struct CertificateResponse: Encodable {
        struct PrivateKey: Encodable { var type: String; var bytes: String }
        var certificate: String
        var privateKey: PrivateKey
        var expiration: String
    }

    func serverCertificate(module moduleId: String, _ request: EdgeRequest) -> EdgeResponse {
        guard let edgeCA else { return .error(.internalServerError, "the edge CA is not available") }
        guard let body = try? JSONText.decode(CertificateRequest.self, from: request.body),
              let cn = body.commonName, !cn.isEmpty else {
            return .error(.badRequest, "missing parameter: request body {\"commonName\",\"expiration\"}")
        }
        var expiration = RFC3339.now() + 90 * 86_400
        if let text = body.expiration {
            guard let t = RFC3339.parse(text) else { return .error(.badRequest, "invalid parameter: expiration \(text)") }
            expiration = t
        }
        do {
            let issued = try edgeCA.issueServerCertificate(commonName: cn, moduleId: moduleId, expiration: expiration)
            logger.info("Workload API: issued a server certificate for \(cn) to module \(moduleId), valid until \(RFC3339.format(issued.expiration, fractionDigits: 0))")
            return .json(CertificateResponse(certificate: issued.certificatePEM,
                                             privateKey: .init(type: "key", bytes: issued.privateKeyPEM),
                                             expiration: RFC3339.format(issued.expiration, fractionDigits: 0)))
        } catch {
            return .error(.internalServerError, "could not issue the certificate: \(error)")
        }
    }
}
