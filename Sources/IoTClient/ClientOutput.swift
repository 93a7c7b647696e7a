import Logging
import Twin

/// Where the client's events and incoming messages go: the public streams, the caller's
/// synchronous event callback, and the log lines for connection attempts.
final class ClientOutput: Sendable {
    let desiredPatches: AsyncStream<JSONValue>
    let cloudToDeviceMessages: AsyncStream<IncomingMessage>
    let inputMessages: AsyncStream<IncomingMessage>
    let connectionEvents: AsyncStream<ConnectionEvent>

    private let desiredContinuation: AsyncStream<JSONValue>.Continuation
    private let cloudToDeviceContinuation: AsyncStream<IncomingMessage>.Continuation
    private let inputContinuation: AsyncStream<IncomingMessage>.Continuation
    private let eventContinuation: AsyncStream<ConnectionEvent>.Continuation
    private let observer: (@Sendable (ConnectionEvent) -> Void)?
    private let attemptMessage: @Sendable (IoTClientTransport) -> Logger.Message
    private let logger: Logger

    init(logger: Logger, attemptMessage: @escaping @Sendable (IoTClientTransport) -> Logger.Message,
         observer: (@Sendable (ConnectionEvent) -> Void)?) {
        self.logger = logger
        self.attemptMessage = attemptMessage
        self.observer = observer
        (desiredPatches, desiredContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1000))
        (cloudToDeviceMessages, cloudToDeviceContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1000))
        (inputMessages, inputContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        (connectionEvents, eventContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(256))
    }

    func emit(_ event: ConnectionEvent) {
        if case .attempting(let transport) = event { logger.info(attemptMessage(transport)) }
        observer?(event)
        eventContinuation.yield(event)
    }

    func desiredPatch(_ patch: JSONValue) {
        if case .dropped = desiredContinuation.yield(patch) {
            logger.warning("a desired-properties patch was dropped: nobody reads desiredPatches")
        }
    }

    func cloudToDevice(_ message: IncomingMessage) {
        if case .dropped = cloudToDeviceContinuation.yield(message) {
            logger.warning("a cloud-to-device message was dropped: nobody reads cloudToDeviceMessages")
        }
    }

    func input(_ message: IncomingMessage) {
        if case .dropped = inputContinuation.yield(message) {
            logger.warning("an input message was dropped: nobody reads inputMessages")
        }
    }

    func finish() {
        desiredContinuation.finish()
        cloudToDeviceContinuation.finish()
        inputContinuation.finish()
        eventContinuation.finish()
    }
}
