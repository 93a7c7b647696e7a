import Foundation
import IoTProtocol
import NIOConcurrencyHelpers
import NIOCore

/// Direct methods in flight: sends a request to the connected client and waits for the answer
/// that carries the same request id, or for the timeout.
public final class MethodDispatcher: Sendable {
    public struct Answer: Sendable, Equatable {
        public var status: Int
        public var payload: ByteBuffer
    }

    public enum Failure: Error, Equatable {
        /// Not connected, or not subscribed to methods, when the connect timeout ran out.
        case notOnline
        /// Connected, but no answer within the response timeout.
        case timedOut
    }

    private struct Pending {
        var clientID: String
        var continuation: CheckedContinuation<Answer, Error>
    }

    private let connections: ConnectionRegistry
    private let pending = NIOLockedValueBox<[String: Pending]>([:])
    private let counter = ManagedAtomicCounter()

    public init(connections: ConnectionRegistry) { self.connections = connections }

    public func invoke(_ identity: IdentityID, method: String, payload: ByteBuffer,
                       responseTimeout: Duration, connectTimeout: Duration) async throws -> Answer {
        let clientID = identity.clientID
        try await waitUntilListening(clientID, timeout: connectTimeout)
        let requestID = String(counter.next(), radix: 16)
        return try await withThrowingTaskGroup(of: Answer.self) { group in
            group.addTask {
                try await withCheckedThrowingContinuation { continuation in
                    self.pending.withLockedValue { $0[requestID] = Pending(clientID: clientID, continuation: continuation) }
                    if !self.connections.push(.methodRequest(name: method, requestID: requestID, payload: payload), to: clientID) {
                        // Gone between the check and the send: IoT Hub reports the same as never connected.
                        self.finish(requestID, with: .failure(Failure.notOnline))
                    }
                }
            }
            group.addTask {
                try await Task.sleep(for: responseTimeout)
                self.finish(requestID, with: .failure(Failure.timedOut))
                throw Failure.timedOut
            }
            defer { group.cancelAll() }
            let answer = try await group.next()!
            return answer
        }
    }

    /// The device's answer arrived. Answers for unknown or timed-out requests, or from another
    /// client than the one asked, are dropped.
    public func complete(requestID: String, from clientID: String, status: Int, payload: ByteBuffer) {
        let matches = pending.withLockedValue { $0[requestID]?.clientID == clientID }
        guard matches else { return }
        finish(requestID, with: .success(Answer(status: status, payload: payload)))
    }

    public var inFlight: Int { pending.withLockedValue { $0.count } }

    private func finish(_ requestID: String, with result: Result<Answer, Error>) {
        let entry = pending.withLockedValue { $0.removeValue(forKey: requestID) }
        entry?.continuation.resume(with: result)
    }

    private func waitUntilListening(_ clientID: String, timeout: Duration) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while !connections.isSubscribed(clientID, to: .methods) {
            guard clock.now < deadline else { throw Failure.notOnline }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// Request ids unique for the life of the hub.
final class ManagedAtomicCounter: Sendable {
    private let value = NIOLockedValueBox<UInt64>(0)
    func next() -> UInt64 { value.withLockedValue { $0 += 1; return $0 } }
}
