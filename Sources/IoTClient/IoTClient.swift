import IoTProtocol
import Logging
import NIOCore
import NIOPosix
import Twin

/// A client for one Azure IoT device or module identity over MQTT 3.1.1, behaving as the
/// Python SDK (`azure-iot-device`) does on the wire (../shared/WIRE.md): SAS tokens renewed by
/// reconnecting, QoS 1 for everything, twin requests correlated by `$rid`, and MQTT over TLS
/// or over a WebSocket tried in the configured order. After `connect()` it stays connected by
/// itself: a lost connection is reopened with back-off, subscriptions are made again, and
/// operations in flight are sent again, so each call either completes or throws (at the latest
/// after `operationTimeout`). Unlike the first `connect()`, which gives up after one round of
/// transports, reconnecting goes on at the back-off's pace even when the hub refuses the token
/// (a key can be rotated back, a device re-enabled); `connectionEvents` shows every failure.
///
/// The streams (`desiredPatches`, `cloudToDeviceMessages`, `inputMessages`,
/// `connectionEvents`) each have one reader; they end when the client is closed.
public final class IoTClient: Sendable {
    public let configuration: IoTClientConfiguration
    private let engine: ClientEngine
    private let output: ClientOutput

    /// - Parameters:
    ///   - attemptMessage: the log line (level info) before each transport is tried; edgeAgent
    ///     writes "Edge agent attempting to connect to IoT Hub via …".
    ///   - onEvent: called synchronously for every connection event, in order.
    /// - Throws: `IoTClientError.invalidConfiguration` for bad ids, keys or CA text.
    public init(configuration: IoTClientConfiguration,
                logger: Logger = Logger(label: "IoTClient"),
                eventLoopGroup: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                attemptMessage: @escaping @Sendable (IoTClientTransport) -> Logger.Message = { "Attempting to connect to IoT Hub via \($0)" },
                onEvent: (@Sendable (ConnectionEvent) -> Void)? = nil) throws(IoTClientError) {
        var logger = logger
        logger[metadataKey: "client"] = "\(configuration.identity.clientID)"
        self.configuration = configuration
        self.output = ClientOutput(logger: logger, attemptMessage: attemptMessage, observer: onEvent)
        self.engine = try ClientEngine(configuration: configuration, logger: logger, group: eventLoopGroup, output: output)
    }

    /// A client dropped without `close()` is closed in the background, so that its connection and
    /// reconnect loop do not outlive it.
    deinit {
        let engine = engine
        Task { await engine.close() }
    }

    /// Desired-properties patches, each with its `$version`, once `enableDesiredPatches()` has
    /// subscribed. After a reconnect the SDKs read the whole twin again: do the same with
    /// `getTwin()` when `connectionEvents` says `.connected` after a `.disconnected`.
    public var desiredPatches: AsyncStream<JSONValue> { output.desiredPatches }
    /// Cloud-to-device messages (devices), once `enableCloudToDeviceMessages()` has subscribed.
    public var cloudToDeviceMessages: AsyncStream<IncomingMessage> { output.cloudToDeviceMessages }
    /// Messages routed to this module's inputs, once `enableInputMessages()` has subscribed.
    public var inputMessages: AsyncStream<IncomingMessage> { output.inputMessages }
    public var connectionEvents: AsyncStream<ConnectionEvent> { output.connectionEvents }

    /// Whether the client is connected and its subscriptions are in place.
    public var isConnected: Bool { get async { await engine.isConnected } }

    /// Connects, trying each configured transport once, in order.
    /// - Throws: `IoTClientError.connectFailed` naming each transport's failure (name resolution,
    ///   connection refused, TLS, WebSocket upgrade, CONNACK code such as "not authorized").
    public func connect() async throws {
        try await engine.connect()
    }

    /// Sends a device-to-cloud message (a module's output when `systemProperties.outputName` is
    /// set) with QoS 1; returns when the hub acknowledged it (PUBACK), which it does once stored.
    public func sendEvent(_ payload: ByteBuffer, properties: [String: String] = [:],
                          systemProperties: MessageSystemProperties = MessageSystemProperties()) async throws {
        let bag = PropertyBag(system: systemProperties.byBagName,
                              application: properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        let topic = IoTTopic.telemetry(configuration.identity, bag: bag)
        _ = try await engine.run(.publish(topic: topic, payload: payload), name: "sending a message")
    }

    /// Sends a message with a property bag made elsewhere, as edgeHub forwards its clients'
    /// messages upstream with the properties they came with.
    public func sendEvent(_ payload: ByteBuffer, propertyBag: PropertyBag) async throws {
        let topic = IoTTopic.telemetry(configuration.identity, bag: propertyBag)
        _ = try await engine.run(.publish(topic: topic, payload: payload), name: "sending a message")
    }

    /// Sends several messages in this order without waiting for each PUBACK in turn; returns,
    /// for each, nil when the hub acknowledged it or the error. The hub stores them in order.
    public func sendEvents(_ messages: [(payload: ByteBuffer, propertyBag: PropertyBag)]) async throws -> [Error?] {
        let requests = messages.map { ClientSession.Request.publish(topic: IoTTopic.telemetry(configuration.identity, bag: $0.propertyBag), payload: $0.payload) }
        return try await engine.runBatch(requests, name: "sending a message").map { result in
            if case .failure(let error) = result { return error }
            return nil
        }
    }

    public func sendEvent(_ text: String, properties: [String: String] = [:],
                          systemProperties: MessageSystemProperties = MessageSystemProperties()) async throws {
        try await sendEvent(ByteBuffer(string: text), properties: properties, systemProperties: systemProperties)
    }

    /// Sends a message on one of this module's outputs (`$.on`), for edgeHub's routes.
    public func sendOutputEvent(output: String, _ payload: ByteBuffer, properties: [String: String] = [:],
                                systemProperties: MessageSystemProperties = MessageSystemProperties()) async throws {
        var system = systemProperties
        system.outputName = output
        try await sendEvent(payload, properties: properties, systemProperties: system)
    }

    /// The twin as the device sees it: `{"desired":{…,"$version":n},"reported":{…,"$version":m}}`.
    public func getTwin() async throws -> JSONValue {
        try await engine.subscribe(.twinResponses)
        let (status, _, payload) = try await twinRequest(.get, payload: ByteBuffer(), name: "twin GET")
        guard status == 200 else {
            throw IoTClientError.requestFailed(operation: "twin GET", status: status, message: Self.errorMessage(payload))
        }
        do { return try JSONValue(parsing: String(buffer: payload)) } catch {
            throw IoTClientError.invalidResponse("the twin is not JSON: \(error)")
        }
    }

    /// Merges `patch` (a JSON object; `null` removes a property) into the reported properties.
    /// - Returns: the reported properties' new `$version`.
    public func patchReported(_ patch: JSONValue) async throws -> Int {
        guard case .object = patch else {
            throw IoTClientError.invalidConfiguration("a reported-properties patch must be a JSON object")
        }
        try await engine.subscribe(.twinResponses)
        let name = "reported properties PATCH"
        let (status, version, payload) = try await twinRequest(.patchReported, payload: ByteBuffer(string: patch.jsonText), name: name)
        guard (200..<300).contains(status) else {
            throw IoTClientError.requestFailed(operation: name, status: status, message: Self.errorMessage(payload))
        }
        guard let version else { throw IoTClientError.invalidResponse("the hub's answer has no $version") }
        return version
    }

    /// Subscribes to desired-properties patches (`$iothub/twin/PATCH/properties/desired/#`);
    /// they arrive on `desiredPatches`.
    public func enableDesiredPatches() async throws {
        try await engine.subscribe(.twinDesiredPatches)
    }

    /// Sets the direct-method handler and subscribes to `$iothub/methods/POST/#`. The handler's
    /// answer goes back on `$iothub/methods/res/{status}/?$rid=…`.
    public func onMethod(_ handler: @escaping @Sendable (MethodRequest) async -> MethodResponse) async throws {
        await engine.setMethodHandler(handler)
        try await engine.subscribe(.methods)
    }

    /// Subscribes a device to its cloud-to-device messages (`devices/{d}/messages/devicebound/#`).
    public func enableCloudToDeviceMessages() async throws {
        guard configuration.moduleID == nil else {
            throw IoTClientError.invalidConfiguration("modules have no cloud-to-device messages; use enableInputMessages()")
        }
        try await engine.subscribe(.cloudToDevice(deviceID: configuration.deviceID))
    }

    /// Subscribes a module to its inputs (`devices/{d}/modules/{m}/inputs/#`).
    public func enableInputMessages() async throws {
        guard configuration.moduleID != nil else {
            throw IoTClientError.invalidConfiguration("only modules have inputs; use enableCloudToDeviceMessages()")
        }
        try await engine.subscribe(.moduleInputs(configuration.identity))
    }

    /// Says DISCONNECT, closes the connection, fails what is still waiting with
    /// `IoTClientError.closed` and ends the streams. The client cannot be used again.
    public func close() async {
        await engine.close()
    }

    private func twinRequest(_ kind: ClientSession.TwinRequest, payload: ByteBuffer, name: String) async throws -> (Int, Int?, ByteBuffer) {
        let completion = try await engine.run(.twin(kind, payload: payload), name: name)
        guard case .response(let status, let version, let body) = completion else {
            throw IoTClientError.invalidResponse("no answer body")
        }
        return (status, version, body)
    }

    /// The hub's error bodies are `{"errorCode":…,"message":…}`.
    private static func errorMessage(_ payload: ByteBuffer) -> String? {
        let text = String(buffer: payload)
        if let json = try? JSONValue(parsing: text), let message = json["message"]?.stringValue ?? json["Message"]?.stringValue {
            return message
        }
        return text.isEmpty ? nil : text
    }
}
