import Foundation
@testable import HubServer
import IoTProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

/// A stand-in client: records what the hub pushes and can answer direct methods.
private final class FakeClient: @unchecked Sendable {
    let pushes = NIOLockedValueBox<[ServerPush]>([])
    let subscriptions = NIOLockedValueBox<PushSubscriptions>([])

    func entry() -> ConnectionRegistry.Entry {
        ConnectionRegistry.Entry(id: ObjectIdentifier(self), channel: EmbeddedChannel(), close: { _ in },
                                 push: { push in self.pushes.withLockedValue { $0.append(push) } },
                                 subscriptions: subscriptions)
    }

    /// The request id of the first method request pushed so far.
    var firstRequestID: String? {
        pushes.withLockedValue { list in
            for case .methodRequest(_, let rid, _) in list { return rid }
            return nil
        }
    }
}

@Suite("Direct method dispatch")
struct MethodDispatcherTests {
    let identity = IdentityID(deviceID: "dev1")

    @Test("a listening client gets the request and its answer comes back")
    func roundTrip() async throws {
        let registry = ConnectionRegistry()
        let dispatcher = MethodDispatcher(connections: registry)
        let client = FakeClient()
        client.subscriptions.withLockedValue { $0 = [.methods] }
        _ = registry.register("dev1", client.entry())
        async let answer = dispatcher.invoke(identity, method: "reboot", payload: ByteBuffer(string: "{\"a\":1}"),
                                             responseTimeout: .seconds(5), connectTimeout: .zero)
        let rid = try await eventually { client.firstRequestID }
        // An answer from another client, or to another id, is ignored.
        dispatcher.complete(requestID: rid, from: "dev2", status: 500, payload: ByteBuffer())
        dispatcher.complete(requestID: "nope", from: "dev1", status: 500, payload: ByteBuffer())
        dispatcher.complete(requestID: rid, from: "dev1", status: 201, payload: ByteBuffer(string: "\"done\""))
        #expect(try await answer == MethodDispatcher.Answer(status: 201, payload: ByteBuffer(string: "\"done\"")))
        #expect(dispatcher.inFlight == 0)
    }

    @Test("not connected, or connected without a methods subscription: notOnline after the connect timeout")
    func notOnline() async throws {
        let registry = ConnectionRegistry()
        let dispatcher = MethodDispatcher(connections: registry)
        await #expect(throws: MethodDispatcher.Failure.notOnline) {
            try await dispatcher.invoke(identity, method: "m", payload: ByteBuffer(), responseTimeout: .seconds(5), connectTimeout: .zero)
        }
        let client = FakeClient()
        _ = registry.register("dev1", client.entry())
        await #expect(throws: MethodDispatcher.Failure.notOnline) {
            try await dispatcher.invoke(identity, method: "m", payload: ByteBuffer(), responseTimeout: .seconds(5), connectTimeout: .milliseconds(200))
        }
        #expect(client.pushes.withLockedValue { $0.isEmpty })
    }

    @Test("a client that subscribes within the connect timeout gets the request")
    func connectTimeout() async throws {
        let registry = ConnectionRegistry()
        let dispatcher = MethodDispatcher(connections: registry)
        let client = FakeClient()
        async let answer = dispatcher.invoke(identity, method: "m", payload: ByteBuffer(), responseTimeout: .seconds(5), connectTimeout: .seconds(5))
        try await Task.sleep(for: .milliseconds(200))
        _ = registry.register("dev1", client.entry())
        client.subscriptions.withLockedValue { $0 = [.methods] }
        let rid = try await eventually { client.firstRequestID }
        dispatcher.complete(requestID: rid, from: "dev1", status: 200, payload: ByteBuffer())
        #expect(try await answer.status == 200)
    }

    @Test("no answer within the response timeout: timedOut, and a late answer is dropped")
    func timeout() async throws {
        let registry = ConnectionRegistry()
        let dispatcher = MethodDispatcher(connections: registry)
        let client = FakeClient()
        client.subscriptions.withLockedValue { $0 = [.methods] }
        _ = registry.register("dev1", client.entry())
        await #expect(throws: MethodDispatcher.Failure.timedOut) {
            try await dispatcher.invoke(identity, method: "m", payload: ByteBuffer(), responseTimeout: .milliseconds(300), connectTimeout: .zero)
        }
        #expect(dispatcher.inFlight == 0)
        dispatcher.complete(requestID: client.firstRequestID ?? "", from: "dev1", status: 200, payload: ByteBuffer())
    }
}

/// Polls `probe` until it yields a value (at most 5 s).
private func eventually<T>(_ probe: () -> T?) async throws -> T {
    for _ in 0..<500 {
        if let value = probe() { return value }
        try await Task.sleep(for: .milliseconds(10))
    }
    throw CancellationError()
}
