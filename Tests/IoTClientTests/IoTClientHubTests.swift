import Foundation
import HubServer
import HubStore
@testable import IoTClient
import IoTProtocol
import Logging
import NIOCore
import Testing
import Twin

/// The client against a real hub in this process (`Hub` + `HubService`), over TLS and over
/// WebSocket, as edgeAgent and edgeHub will use it.
@Suite("IoTClient against a real hub", .serialized)
struct IoTClientHubTests {
    static let verbose = ProcessInfo.processInfo.environment["IOTCLIENT_TEST_VERBOSE"] != nil

    func withHub(_ body: (TestHub) async throws -> Void) async throws {
        let hub = try await TestHub.start()
        do {
            try await body(hub)
        } catch {
            await hub.remove()
            throw error
        }
        await hub.remove()
    }

    func makeClient(_ configuration: IoTClientConfiguration, events: Recorder<ConnectionEvent>? = nil) throws -> IoTClient {
        var logger = Logger(label: "iotclient-test")
        logger.logLevel = Self.verbose ? .debug : .error
        return try IoTClient(configuration: configuration, logger: logger, onEvent: { events?.append($0) })
    }

    func connect(_ client: IoTClient) async throws {
        try await within(.seconds(30), "connect()") { try await client.connect() }
    }

    static func isDisconnected(_ e: ConnectionEvent) -> Bool {
        if case .disconnected = e { true } else { false }
    }

    // MARK: connecting

    @Test("connects with a device key over MQTT; the hub sees the device connected, then gone after close()")
    func connectOverMQTT() async throws {
        try await withHub { hub in
            let key = try await hub.register("dev1")
            let events = Recorder<ConnectionEvent>()
            let client = try makeClient(hub.configuration("dev1", key: key, transports: [.mqtt]), events: events)
            try await connect(client)
            #expect(events.all == [.attempting(.mqtt), .connected(.mqtt)])
            #expect(await client.isConnected)
            #expect(hub.hub.connections.isConnected("dev1"))
            await client.close()
            #expect(events.all.last == .closed)
            try await eventually("the hub to see the device go") { !hub.hub.connections.isConnected("dev1") }
            await #expect(throws: IoTClientError.self) { try await client.sendEvent("late") }
        }
    }

    @Test("connects over MQTT over WebSocket alone, and messages flow through the masked frames")
    func connectOverWebSocket() async throws {
        try await withHub { hub in
            let key = try await hub.register("dev1")
            let events = Recorder<ConnectionEvent>()
            let client = try makeClient(hub.configuration("dev1", key: key, transports: [.mqttWebSocket]), events: events)
            try await connect(client)
            #expect(events.all == [.attempting(.mqttWebSocket), .connected(.mqttWebSocket)])
            try await within(.seconds(20), "send over WebSocket") {
                try await client.sendEvent(ByteBuffer(repeating: 0x61, count: 70_000))
            }
            let twin = try await within(.seconds(20), "twin over WebSocket") { try await client.getTwin() }
            #expect(twin["desired"] != nil)
            let stored = try await hub.hub.store.messages(after: 0, deviceID: "dev1", limit: 10)
            #expect(stored.map(\.body.count) == [70_000])
            await client.close()
        }
    }

    @Test("a wrong key is refused on every transport with 'not authorized', and nothing is retried")
    func wrongKey() async throws {
        try await withHub { hub in
            try await hub.register("dev1")
            let events = Recorder<ConnectionEvent>()
            let client = try makeClient(hub.configuration("dev1", key: SymmetricKeyGenerator.make()), events: events)
            let error = await #expect(throws: IoTClientError.self) { try await connect(client) }
            guard case .connectFailed(let failures)? = error else { Issue.record("expected connectFailed, got \(String(describing: error))"); return }
            #expect(failures.map(\.transport) == [.mqtt, .mqttWebSocket])
            #expect(failures.allSatisfy { $0.reason == .refused(.notAuthorized) })
            #expect(error?.isAuthenticationFailure == true)
            #expect("\(error!)".contains("not authorized (CONNACK 5)"))
            #expect("\(error!)".contains("\(hub.host):\(hub.mqttPort)") && "\(error!)".contains("\(hub.host):\(hub.httpsPort)"))
            try await Task.sleep(for: .milliseconds(500))
            #expect(!events.all.contains { if case .retrying = $0 { true } else { false } })
            await #expect(throws: IoTClientError.self) { try await client.sendEvent("x") }
            await client.close()
        }
    }

    @Test("a hub certificate the client does not trust is a TLS failure")
    func untrustedCertificate() async throws {
        try await withHub { hub in
            let key = try await hub.register("dev1")
            var configuration = hub.configuration("dev1", key: key, transports: [.mqtt])
            configuration.trustedCAPEM = nil  // the system's roots do not know the hub's CA
            let client = try makeClient(configuration)
            let error = await #expect(throws: IoTClientError.self) { try await connect(client) }
            guard case .connectFailed(let failures)? = error, let failure = failures.first else { Issue.record("expected connectFailed"); return }
            if case .tls = failure.reason {} else { Issue.record("expected a TLS failure, got \(failure.reason)") }
            await client.close()
        }
    }

    @Test("falls back to MQTT over WebSocket when the MQTT port is closed")
    func transportFallback() async throws {
        try await withHub { hub in
            let key = try await hub.register("dev1")
            var configuration = hub.configuration("dev1", key: key)
            configuration.port = try TestHub.freePort(hub.host)
            let events = Recorder<ConnectionEvent>()
            let client = try makeClient(configuration, events: events)
            try await connect(client)
            let failure = TransportFailure(transport: .mqtt, host: hub.host, port: configuration.port, reason: .connectionRefused)
            #expect(events.all == [.attempting(.mqtt), .attemptFailed(failure), .attempting(.mqttWebSocket), .connected(.mqttWebSocket)])
            try await within(.seconds(20), "send") { try await client.sendEvent("via websocket") }
            await client.close()
        }
    }

    @Test("when every transport fails, the error names each one")
    func allTransportsFail() async throws {
        try await withHub { hub in
            let key = try await hub.register("dev1")
            var configuration = hub.configuration("dev1", key: key)
            configuration.port = try TestHub.freePort(hub.host)
            configuration.webSocketPort = try TestHub.freePort(hub.host)
            let client = try makeClient(configuration)
            let error = await #expect(throws: IoTClientError.self) { try await connect(client) }
            guard case .connectFailed(let failures)? = error else { Issue.record("expected connectFailed"); return }
            #expect(failures.map(\.reason) == [.connectionRefused, .connectionRefused])
            #expect(failures.map(\.port) == [configuration.port, configuration.webSocketPort])
            #expect(error?.isAuthenticationFailure == false)
            await client.close()
        }
    }

    // MARK: messages, twins, methods

    @Test("telemetry is acknowledged once the hub stored it, with its properties")
    func telemetry() async throws {
        try await withHub { hub in
            let key = try await hub.register("dev1")
            let client = try makeClient(hub.configuration("dev1", key: key))
            try await connect(client)
            try await within(.seconds(20), "send") {
                try await client.sendEvent(#"{"t":21}"#, properties: ["alert": "high", "a b": "c&d"],
                                           systemProperties: MessageSystemProperties(messageID: "m-1", correlationID: "c-1",
                                                                                     contentType: "application/json", contentEncoding: "utf-8"))
            }
            let stored = try await hub.hub.store.messages(after: 0, deviceID: "dev1", limit: 10)
            #expect(stored.count == 1)
            let message = try #require(stored.first)
            #expect(String(decoding: message.body, as: UTF8.self) == #"{"t":21}"#)
            let properties = try JSONValue(parsing: message.properties)
            #expect(properties == ["alert": "high", "a b": "c&d"])
            let system = try JSONValue(parsing: message.systemProperties)
            #expect(system["message-id"] == "m-1" && system["correlation-id"] == "c-1")
            #expect(system["content-type"] == "application/json" && system["content-encoding"] == "utf-8")
            await client.close()
        }
    }

    @Test("twin GET and reported PATCH round-trip with versions; the hub's refusal carries its status")
    func twinRoundTrip() async throws {
        try await withHub { hub in
            let key = try await hub.register("dev1")
            let client = try makeClient(hub.configuration("dev1", key: key))
            try await connect(client)
            let before = try await within(.seconds(20), "twin GET") { try await client.getTwin() }
            let start = try #require(before["reported"]?["$version"]?.numberValue.map { Int($0) })
            #expect(before["desired"]?["$version"] != nil)
            let v1 = try await within(.seconds(20), "PATCH") { try await client.patchReported(["temperature": 21.5, "fw": "1.0"]) }
            let v2 = try await within(.seconds(20), "PATCH") { try await client.patchReported(["fw": "1.1"]) }
            #expect(v1 == start + 1 && v2 == start + 2)
            let after = try await within(.seconds(20), "twin GET") { try await client.getTwin() }
            #expect(after["reported"]?["fw"] == "1.1" && after["reported"]?["temperature"] == 21.5)
            #expect(after["reported"]?["$version"]?.numberValue == Double(v2))
            let stored = try #require(try await hub.hub.store.twin(deviceID: "dev1", moduleID: nil))
            #expect(stored.twin.reported.version == v2)

            var deep: JSONValue = "leaf"
            for _ in 0..<12 { deep = .object(["x": deep]) }
            let tooDeep = deep
            let error = await #expect(throws: IoTClientError.self) { try await client.patchReported(tooDeep) }
            guard case .requestFailed(_, let status, let message)? = error else { Issue.record("expected requestFailed, got \(String(describing: error))"); return }
            #expect(status == 400 && message != nil)
            await client.close()
        }
    }

    @Test("a desired patch made by the service reaches desiredPatches with its $version")
    func desiredPatches() async throws {
        try await withHub { hub in
            let key = try await hub.register("dev1")
            let client = try makeClient(hub.configuration("dev1", key: key))
            let patches = Recorder.reading(client.desiredPatches)
            try await connect(client)
            try await within(.seconds(20), "subscribe") { try await client.enableDesiredPatches() }
            let version = try await hub.patchDesired("dev1", ["interval": 5, "mode": "eco"])
            let patch = try await patches.wait(for: "the desired patch") { $0["$version"]?.numberValue == Double(version) }
            #expect(patch["interval"] == 5 && patch["mode"] == "eco")
            await client.close()
        }
    }

    @Test("a direct method from the service is answered by the handler")
    func directMethod() async throws {
        try await withHub { hub in
            let key = try await hub.register("dev1")
            let client = try makeClient(hub.configuration("dev1", key: key))
            try await connect(client)
            try await within(.seconds(20), "subscribe") {
                try await client.onMethod { request in
                    if request.name == "fail" { return MethodResponse(status: 404, payload: ["message": "no such thing"]) }
                    return MethodResponse(status: 200, payload: ["name": .string(request.name), "echo": request.payload])
                }
            }
            let answer = try await hub.hub.methods.invoke(IdentityID(deviceID: "dev1"), method: "reboot",
                                                          payload: ByteBuffer(string: #"{"delay":3}"#),
                                                          responseTimeout: .seconds(10), connectTimeout: .seconds(5))
            #expect(answer.status == 200)
            let body = try JSONValue(parsing: String(buffer: answer.payload))
            #expect(body["name"] == "reboot" && body["echo"]?["delay"] == 3)
            let failed = try await hub.hub.methods.invoke(IdentityID(deviceID: "dev1"), method: "fail", payload: ByteBuffer(),
                                                          responseTimeout: .seconds(10), connectTimeout: .seconds(5))
            #expect(failed.status == 404)
            await client.close()
        }
    }

    @Test("cloud-to-device messages arrive with their properties and are acknowledged")
    func cloudToDevice() async throws {
        try await withHub { hub in
            let key = try await hub.register("dev1")
            let client = try makeClient(hub.configuration("dev1", key: key))
            let messages = Recorder.reading(client.cloudToDeviceMessages)
            try await connect(client)
            try await within(.seconds(20), "subscribe") { try await client.enableCloudToDeviceMessages() }
            let record = CloudToDeviceRecord(deviceId: "dev1", messageId: "c-1", body: Data("hello".utf8),
                                             properties: [("$.mid", "c-1"), ("iothub-ack", "full"), ("color", "red")],
                                             enqueuedTime: Date(), expiryTime: Date().addingTimeInterval(3600))
            _ = try await hub.hub.store.enqueueCloudToDevice(record, maxDepth: 50)
            hub.hub.connections.push(.cloudToDeviceQueued, to: "dev1")
            let message = try await messages.wait(for: "the C2D message") { _ in true }
            #expect(message.messageID == "c-1" && message.properties == ["color": "red"])
            #expect(message.systemProperties["iothub-ack"] == "full" && String(buffer: message.payload) == "hello")
            try await eventually("the hub to see the PUBACK") {
                try await hub.hub.store.identity(deviceID: "dev1")?.cloudToDeviceMessageCount == 0
            }
            await client.close()
        }
    }

    @Test("a module ($edgeAgent) connects, sends on an output and reads its own twin")
    func module() async throws {
        try await withHub { hub in
            try await hub.register("edge1")
            let key = try await hub.register("edge1", module: "$edgeAgent")
            let client = try makeClient(hub.configuration("edge1", module: "$edgeAgent", key: key))
            let patches = Recorder.reading(client.desiredPatches)
            try await connect(client)
            try await within(.seconds(20), "send") { try await client.sendOutputEvent(output: "out1", ByteBuffer(string: "m")) }
            let stored = try await hub.hub.store.messages(after: 0, deviceID: "edge1", limit: 10)
            #expect(stored.map(\.moduleId) == ["$edgeAgent"])
            #expect(try JSONValue(parsing: stored[0].systemProperties)["output-name"] == "out1")
            try await within(.seconds(20), "subscribe") { try await client.enableDesiredPatches() }
            let version = try await hub.patchDesired("edge1", module: "$edgeAgent", ["schemaVersion": "1.1"])
            _ = try await patches.wait(for: "the module's desired patch") { $0["$version"]?.numberValue == Double(version) }
            let twin = try await within(.seconds(20), "twin GET") { try await client.getTwin() }
            #expect(twin["desired"]?["schemaVersion"] == "1.1")
            await #expect(throws: IoTClientError.self) { try await client.enableCloudToDeviceMessages() }
            await client.close()
        }
    }

    // MARK: staying connected

    @Test("after the hub drops the connection the client reconnects, subscribes again, and nothing sent is lost")
    func reconnectAfterDrop() async throws {
        try await withHub { hub in
            let key = try await hub.register("dev1")
            let events = Recorder<ConnectionEvent>()
            var configuration = hub.configuration("dev1", key: key)
            // A clean session: the hub forgets the subscriptions, so only the client's own
            // re-subscribing brings the patches and methods back.
            configuration.cleanSession = true
            let client = try makeClient(configuration, events: events)
            let patches = Recorder.reading(client.desiredPatches)
            try await connect(client)
            try await within(.seconds(20), "subscribe") { try await client.enableDesiredPatches() }
            try await within(.seconds(20), "subscribe") { try await client.onMethod { _ in MethodResponse(status: 200) } }

            let entry = try #require(hub.hub.connections.entry("dev1"))
            entry.close(.replacedByNewConnection)
            _ = try await events.wait(for: "the disconnect", Self.isDisconnected)
            try await within(.seconds(20), "send across the reconnect") { try await client.sendEvent("during") }
            try await eventually("the second connection") { events.all.filter { $0 == .connected(.mqtt) }.count == 2 }
            #expect(events.all.contains { if case .retrying = $0 { true } else { false } })

            let version = try await hub.patchDesired("dev1", ["after": "reconnect"])
            _ = try await patches.wait(for: "a desired patch after the reconnect") { $0["$version"]?.numberValue == Double(version) }
            let answer = try await hub.hub.methods.invoke(IdentityID(deviceID: "dev1"), method: "ping", payload: ByteBuffer(),
                                                          responseTimeout: .seconds(10), connectTimeout: .seconds(10))
            #expect(answer.status == 200)
            let stored = try await hub.hub.store.messages(after: 0, deviceID: "dev1", limit: 10)
            #expect(stored.map { String(decoding: $0.body, as: UTF8.self) }.contains("during"))
            await client.close()
        }
    }

    @Test("the hub stops and starts again on the same ports: the client comes back and receives later patches")
    func reconnectAfterHubRestart() async throws {
        try await withHub { hub in
            let key = try await hub.register("dev1")
            let events = Recorder<ConnectionEvent>()
            let client = try makeClient(hub.configuration("dev1", key: key), events: events)
            let patches = Recorder.reading(client.desiredPatches)
            try await connect(client)
            try await within(.seconds(20), "subscribe") { try await client.enableDesiredPatches() }

            try await hub.restart()
            _ = try await events.wait(for: "the disconnect", Self.isDisconnected)
            try await eventually("a new connection", timeout: .seconds(20)) {
                events.all.filter { if case .connected = $0 { true } else { false } }.count == 2
            }
            let version = try await hub.patchDesired("dev1", ["after": "restart"])
            _ = try await patches.wait(for: "a desired patch from the restarted hub") { $0["$version"]?.numberValue == Double(version) }
            try await within(.seconds(20), "send") { try await client.sendEvent("after restart") }
            await client.close()
        }
    }

    @Test("the token is renewed by reconnecting before it expires")
    func tokenRenewal() async throws {
        try await withHub { hub in
            let key = try await hub.register("dev1")
            let events = Recorder<ConnectionEvent>()
            var configuration = hub.configuration("dev1", key: key, transports: [.mqtt])
            configuration.tokenLifetime = .seconds(3)
            let client = try makeClient(configuration, events: events)
            try await connect(client)
            try await within(.seconds(20), "subscribe") { try await client.enableDesiredPatches() }
            _ = try await events.wait(for: "the renewal", timeout: .seconds(10)) { $0 == .renewingToken }
            try await eventually("the reconnect after renewal") { events.all.filter { $0 == .connected(.mqtt) }.count >= 2 }
            #expect(!events.all.contains(where: Self.isDisconnected), "a renewal is not a lost connection")
            try await within(.seconds(20), "send") { try await client.sendEvent("renewed") }
            await client.close()
        }
    }

    @Test("cancelling a caller stops its wait; the client carries on")
    func cancellation() async throws {
        try await withHub { hub in
            let key = try await hub.register("dev1")
            var configuration = hub.configuration("dev1", key: key, transports: [.mqtt])
            configuration.reconnectBackoff = ReconnectBackoff(initial: .seconds(3), maximum: .seconds(3), jitter: 0)
            let client = try makeClient(configuration)
            try await connect(client)
            // While offline (3 s before the reconnect), a send waits for the next connection; cancelling ends the wait.
            try #require(hub.hub.connections.entry("dev1")).close(.replacedByNewConnection)
            try await eventually("the client to notice") { await !client.isConnected }
            let waiting = Task { try await client.sendEvent("never mind") }
            try await Task.sleep(for: .milliseconds(50))
            waiting.cancel()
            let result = try await within(.seconds(5), "the cancelled send") { await waiting.result }
            #expect(throws: CancellationError.self) { try result.get() }
            try await within(.seconds(20), "a later send") { try await client.sendEvent("later") }
            await client.close()
        }
    }

    @Test("PINGREQ keeps an idle connection open past the hub's 1.5 × keep-alive limit")
    func keepAlive() async throws {
        try await withHub { hub in
            let key = try await hub.register("dev1")
            let events = Recorder<ConnectionEvent>()
            var configuration = hub.configuration("dev1", key: key, transports: [.mqtt])
            configuration.keepAlive = .seconds(1)
            let client = try makeClient(configuration, events: events)
            try await connect(client)
            try await Task.sleep(for: .milliseconds(3500))
            #expect(events.all == [.attempting(.mqtt), .connected(.mqtt)])
            #expect(hub.hub.connections.isConnected("dev1"))
            await client.close()
        }
    }

    @Test("a signer (the workload API's way) signs the token")
    func signerCredentials() async throws {
        try await withHub { hub in
            let key = try await hub.register("dev1")
            var configuration = hub.configuration("dev1", key: key, transports: [.mqtt])
            configuration.credentials = .signer { data in
                SASToken.hmacBase64(key: Data(base64Encoded: key)!, message: Array(data.utf8))
            }
            let client = try makeClient(configuration)
            try await connect(client)
            try await within(.seconds(20), "send") { try await client.sendEvent("signed") }
            await client.close()
        }
    }

    @Test("calls before connect() fail clearly, and bad configurations are refused up front")
    func misuse() async throws {
        let configuration = IoTClientConfiguration(hostName: "127.0.0.1", deviceID: "dev1", credentials: .sharedAccessKey(SymmetricKeyGenerator.make()))
        let client = try makeClient(configuration)
        await #expect(throws: IoTClientError.self) { try await client.sendEvent("x") }
        await client.close()
        var bad = configuration
        bad.credentials = .sharedAccessKey("not base64!")
        #expect(throws: IoTClientError.self) { try makeClient(bad) }
        bad = configuration
        bad.trustedCAPEM = "not a certificate"
        #expect(throws: IoTClientError.self) { try makeClient(bad) }
        bad = configuration
        bad.deviceID = "no spaces allowed"
        #expect(throws: IoTClientError.self) { try makeClient(bad) }
    }
}
