import Foundation
import IoTProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Testing
@testable import EdgeDaemon

/// `HubIdentityClient` against a stand-in for the hub's registry: HTTPS on 127.0.0.1 with a
/// certificate from a test CA given as the trust bundle, checking the device's SAS token.
/// (Against the real `iothub serve` this is for the integration tests, once the hub accepts a
/// device's token on its module routes.)
@Suite("provisioning client", .timeLimit(.minutes(1)))
struct HubIdentityClientTests {
    static let deviceKey = "ZGV2aWNlLWtleS1vZi1lZGdlMS0wMTIzNDU2Nzg5YWJj"

    final class FakeHub: EdgeHTTPHandler, @unchecked Sendable {
        let lock = NIOLock()
        var modules: [String: String] = [:]
        var seen: [(String, String, String)] = []
        var refuse = false

        func handle(_ request: EdgeRequest) async -> EdgeResponse {
            let auth = request.headers.first(name: "Authorization") ?? ""
            return lock.withLock {
                seen.append((request.method.rawValue, request.path + "?" + request.query.map { "\($0.key)=\($0.value)" }.joined(separator: "&"), String(decoding: request.body, as: UTF8.self)))
                guard !refuse, let token = try? SASToken(parsing: auth), token.resource == "127.0.0.1/devices/edge1",
                      token.keyName == nil, token.isSigned(withBase64Key: HubIdentityClientTests.deviceKey) else {
                    return .json(["Message": "ErrorCode:IotHubUnauthorizedAccess;Unauthorized"], status: .unauthorized)
                }
                let s = request.segments
                func module(_ id: String) -> String {
                    #"{"moduleId":"\#(id)","deviceId":"edge1","generationId":"63800000000000\#(id.count)","managedBy":"iotEdge","authentication":{"symmetricKey":{"primaryKey":"a2V5LW9mLW1vZHVsZS1vbmUtMg==","secondaryKey":"x"},"type":"sas"}}"#
                }
                switch (request.method, s.count) {
                case (.GET, 3): return EdgeResponse(status: .ok, body: .bytes(Array(("[" + modules.keys.sorted().map(module).joined(separator: ",") + "]").utf8)))
                case (.GET, 4): return modules[s[3]] != nil ? EdgeResponse(status: .ok, body: .bytes(Array(module(s[3]).utf8))) : .json(["Message": "ErrorCode:ModuleNotFound;"], status: .notFound)
                case (.PUT, 4):
                    let created = modules[s[3]] == nil
                    modules[s[3]] = "x"
                    return EdgeResponse(status: created ? .created : .ok, body: .bytes(Array(module(s[3]).utf8)))
                case (.DELETE, 4): modules[s[3]] = nil; return .noContent
                default: return .json(["Message": "no"], status: .badRequest)
                }
            }
        }
    }

    /// Serves `handler` over HTTPS on 127.0.0.1, with a certificate from a fresh test CA.
    static func serve(_ handler: EdgeHTTPHandler, dir: TempDir) async throws -> (Channel, Int, String) {
        let ca = try EdgeCA.loadOrCreate(directory: dir.file("hub-ca"), commonName: "Test Hub CA")
        let issued = try ca.issueServerCertificate(commonName: "127.0.0.1", moduleId: "hub", expiration: RFC3339.now() + 3600)
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(issued.certificatePEM.utf8))
        let key = try NIOSSLPrivateKey(bytes: Array(issued.privateKeyPEM.utf8), format: .pem)
        let context = try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)))
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                }.flatMap {
                    channel.pipeline.configureHTTPServerPipeline().flatMap {
                        channel.pipeline.addHandler(EdgeHTTPConnectionHandler(handler: handler, peerPID: nil))
                    }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return (channel, channel.localAddress!.port!, ca.certificatePEM)
    }

    @Test func ensuresListsAndDeletesModulesWithTheDevicesToken() async throws {
        let dir = TempDir()
        let hub = FakeHub()
        let (channel, port, caPEM) = try await Self.serve(hub, dir: dir)
        let client = try HubIdentityClient(device: DeviceCredentials(hubHostname: "127.0.0.1", deviceID: "edge1", key: Self.deviceKey, httpsPort: port),
                                           trustBundlePEM: caPEM)
        let agent = try await client.ensureModule("$edgeAgent")
        #expect(agent == ModuleIdentity(moduleId: "$edgeAgent", generationId: "6380000000000010", primaryKey: "a2V5LW9mLW1vZHVsZS1vbmUtMg==", managedBy: "iotEdge"))
        let again = try await client.ensureModule("$edgeAgent")
        #expect(again == agent)
        _ = try await client.ensureModule("$edgeHub")
        #expect(try await client.listModules().map(\.moduleId) == ["$edgeAgent", "$edgeHub"])
        try await client.deleteModule("$edgeHub")
        try await client.deleteModule("$edgeHub")
        #expect(try await client.listModules().map(\.moduleId) == ["$edgeAgent"])

        let seen = hub.lock.withLock { hub.seen }
        #expect(seen.first?.0 == "GET")
        #expect(seen.first?.1 == "/devices/edge1/modules/%24edgeAgent?api-version=2021-04-12")
        let put = try #require(seen.first { $0.0 == "PUT" })
        #expect(try JSONText.decode(put.2) == .object(["moduleId": .string("$edgeAgent"), "managedBy": .string("iotEdge")]))
        #expect(seen.filter { $0.0 == "PUT" }.count == 2, "an existing module is read, not created again")

        // A key the hub refuses: the error says what to check.
        hub.lock.withLock { hub.refuse = true }
        do { _ = try await client.ensureModule("$edgeAgent"); Issue.record("expected a refusal") } catch let error as IdentityError {
            #expect(!error.unreachable)
            #expect(error.description.contains("401"))
            #expect(error.description.contains("device's key was refused"))
        }
        await client.shutdown()
        try await channel.close()

        // Nobody listening: unreachable, so the cache is used.
        let gone = try HubIdentityClient(device: DeviceCredentials(hubHostname: "127.0.0.1", deviceID: "edge1", key: Self.deviceKey, httpsPort: port),
                                         trustBundlePEM: caPEM, timeout: .seconds(3))
        do { _ = try await gone.listModules(); Issue.record("expected a failure") } catch let error as IdentityError {
            #expect(error.unreachable)
            #expect(error.description.contains("cannot reach the hub at https://127.0.0.1:\(port)"))
        }
        await gone.shutdown()
    }
}
