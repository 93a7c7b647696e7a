@testable import IoTClient
import IoTProtocol
import MQTT
import NIOCore
import Testing

/// The pure state machine, driven packet by packet with a hand-moved clock.
@Suite("ClientSession: the client's protocol state machine")
struct ClientSessionTests {
    typealias Action = ClientSession.Action
    let t0 = ContinuousClock.now
    let connect = Connect(cleanSession: false, keepAliveSeconds: 60, clientID: "dev1", username: "u", password: Array("p".utf8))

    func sent(_ actions: [Action]) -> [MQTTPacket] {
        actions.compactMap { if case .send(let p) = $0 { p } else { nil } }
    }

    func publishes(_ actions: [Action]) -> [Publish] {
        sent(actions).compactMap { if case .publish(let p) = $0 { p } else { nil } }
    }

    /// A session connected and ready (no subscriptions).
    func ready() -> ClientSession {
        var s = ClientSession(keepAlive: .seconds(60), now: t0)
        _ = s.connectionOpened(connect, timeout: .seconds(10), now: t0)
        _ = s.receive(.connack(ConnAck(sessionPresent: false, returnCode: .accepted)), now: t0)
        return s
    }

    @Test("CONNECT goes first; CONNACK accepted makes it ready and reports the handshake")
    func handshake() {
        var s = ClientSession(keepAlive: .seconds(60), now: t0)
        #expect(sent(s.connectionOpened(connect, timeout: .seconds(10), now: t0)) == [.connect(connect)])
        let actions = s.receive(.connack(ConnAck(sessionPresent: true, returnCode: .accepted)), now: t0)
        #expect(actions == [.handshake(.success(true))])
        #expect(s.isReady)
    }

    @Test("CONNACK 5 is a refusal that closes the connection")
    func refused() {
        var s = ClientSession(keepAlive: .seconds(60), now: t0)
        _ = s.connectionOpened(connect, timeout: .seconds(10), now: t0)
        let actions = s.receive(.connack(ConnAck(sessionPresent: false, returnCode: .notAuthorized)), now: t0)
        #expect(actions.first == .handshake(.failure(.refused(.notAuthorized))))
        #expect(actions.contains { if case .close = $0 { true } else { false } })
        #expect(s.phase == .offline)
    }

    @Test("no CONNACK before the deadline fails the handshake")
    func connackTimeout() {
        var s = ClientSession(keepAlive: .seconds(60), now: t0)
        _ = s.connectionOpened(connect, timeout: .seconds(10), now: t0)
        #expect(s.tick(now: t0 + .seconds(5)).isEmpty)
        #expect(s.tick(now: t0 + .seconds(10)).first == .handshake(.failure(.timedOut)))
    }

    @Test("a publish is QoS 1 and completes on its PUBACK, not another")
    func publish() throws {
        var s = ready()
        let (id, actions) = s.submit(.publish(topic: "devices/dev1/messages/events/", payload: ByteBuffer(string: "x")),
                                     name: "send", timeout: .seconds(30), now: t0)
        let p = try #require(publishes(actions).first)
        #expect(p.qos == .atLeastOnce && !p.duplicate && p.topic == "devices/dev1/messages/events/")
        let packetID = try #require(p.packetID)
        #expect(s.receive(.puback(packetID: packetID &+ 1), now: t0).isEmpty)
        #expect(s.receive(.puback(packetID: packetID), now: t0) == [.complete(id, .success(.done))])
        #expect(s.pendingOperations == 0)
    }

    @Test("a publish made offline waits; one lost in flight is sent again with DUP on the next connection")
    func resend() throws {
        var s = ClientSession(keepAlive: .seconds(60), now: t0)
        let (id, queued) = s.submit(.publish(topic: "t", payload: ByteBuffer()), name: "send", timeout: .seconds(30), now: t0)
        #expect(queued.isEmpty)
        _ = s.connectionOpened(connect, timeout: .seconds(10), now: t0)
        let first = publishes(s.receive(.connack(ConnAck(sessionPresent: false, returnCode: .accepted)), now: t0))
        #expect(first.count == 1 && first[0].duplicate == false)
        s.connectionLost(now: t0)
        _ = s.connectionOpened(connect, timeout: .seconds(10), now: t0)
        let again = publishes(s.receive(.connack(ConnAck(sessionPresent: true, returnCode: .accepted)), now: t0))
        #expect(again.count == 1 && again[0].duplicate == true)
        #expect(s.receive(.puback(packetID: again[0].packetID!), now: t0) == [.complete(id, .success(.done))])
    }

    @Test("subscriptions are made again after a reconnect, and queued work waits for their SUBACK")
    func resubscribe() throws {
        var s = ready()
        let (subID, subActions) = s.submit(.subscribe("$iothub/twin/res/#"), name: "sub", timeout: .seconds(30), now: t0)
        guard case .subscribe(let sub)? = sent(subActions).first else { Issue.record("no SUBSCRIBE"); return }
        #expect(s.receive(.suback(SubAck(packetID: sub.packetID, results: [.atLeastOnce])), now: t0) == [.complete(subID, .success(.done))])
        // Already granted on this connection: completes at once.
        let (againID, again) = s.submit(.subscribe("$iothub/twin/res/#"), name: "sub", timeout: .seconds(30), now: t0)
        #expect(again == [.complete(againID, .success(.done))])

        s.connectionLost(now: t0)
        _ = s.submit(.twin(.get, payload: ByteBuffer()), name: "get", timeout: .seconds(30), now: t0)
        _ = s.connectionOpened(connect, timeout: .seconds(10), now: t0)
        let afterConnack = s.receive(.connack(ConnAck(sessionPresent: true, returnCode: .accepted)), now: t0)
        guard case .subscribe(let resub)? = sent(afterConnack).last else { Issue.record("no re-SUBSCRIBE"); return }
        #expect(resub.requests.map(\.topicFilter) == ["$iothub/twin/res/#"])
        #expect(publishes(afterConnack).isEmpty, "the twin GET must wait for the SUBACK")
        let afterSuback = s.receive(.suback(SubAck(packetID: resub.packetID, results: [.atLeastOnce])), now: t0)
        #expect(publishes(afterSuback).map(\.topic) == ["$iothub/twin/GET/?$rid=1"])
        #expect(s.isReady)
    }

    @Test("a refused subscription fails its caller and is not made again")
    func subscriptionRefused() throws {
        var s = ready()
        let (id, actions) = s.submit(.subscribe("devices/x/messages/devicebound/#"), name: "sub", timeout: .seconds(30), now: t0)
        guard case .subscribe(let sub)? = sent(actions).first else { Issue.record("no SUBSCRIBE"); return }
        let result = s.receive(.suback(SubAck(packetID: sub.packetID, results: [nil])), now: t0)
        #expect(result == [.complete(id, .failure(.subscriptionRefused("devices/x/messages/devicebound/#")))])
        #expect(s.subscriptions.isEmpty)
    }

    @Test("twin requests are matched by $rid, with the version of a PATCH; the PUBACK alone does not complete them")
    func twinRequests() throws {
        var s = ready()
        let (getID, getActions) = s.submit(.twin(.get, payload: ByteBuffer()), name: "get", timeout: .seconds(30), now: t0)
        let (patchID, patchActions) = s.submit(.twin(.patchReported, payload: ByteBuffer(string: #"{"a":1}"#)), name: "patch",
                                               timeout: .seconds(30), now: t0)
        let get = try #require(publishes(getActions).first)
        let patch = try #require(publishes(patchActions).first)
        #expect(get.topic == "$iothub/twin/GET/?$rid=1" && String(buffer: get.payload) == " ")
        #expect(patch.topic == "$iothub/twin/PATCH/properties/reported/?$rid=2")
        #expect(s.receive(.puback(packetID: patch.packetID!), now: t0).isEmpty)
        let answer = Publish(topic: "$iothub/twin/res/204/?$rid=2&$version=7", payload: ByteBuffer())
        #expect(s.receive(.publish(answer), now: t0) == [.complete(patchID, .success(.response(status: 204, version: 7, payload: ByteBuffer())))])
        let twin = Publish(topic: "$iothub/twin/res/200/?$rid=1", payload: ByteBuffer(string: "{}"))
        #expect(s.receive(.publish(twin), now: t0) == [.complete(getID, .success(.response(status: 200, version: nil, payload: ByteBuffer(string: "{}"))))])
    }

    @Test("incoming QoS 1 publishes are acknowledged and delivered")
    func deliveries() {
        var s = ready()
        let method = Publish(topic: "$iothub/methods/POST/reboot/?$rid=9", payload: ByteBuffer(string: "{}"), qos: .atLeastOnce, packetID: 4)
        #expect(s.receive(.publish(method), now: t0) == [
            .send(.puback(packetID: 4)),
            .deliver(.method(name: "reboot", requestID: "9", payload: ByteBuffer(string: "{}"))),
        ])
        let patch = Publish(topic: "$iothub/twin/PATCH/properties/desired/?$version=3", payload: ByteBuffer(string: #"{"$version":3}"#))
        #expect(s.receive(.publish(patch), now: t0) == [.deliver(.desiredPatch(ByteBuffer(string: #"{"$version":3}"#), version: 3))])
        let input = Publish(topic: "devices/d/modules/m/inputs/in1/%24.mid=5&a=b", payload: ByteBuffer(string: "x"))
        #expect(s.receive(.publish(input), now: t0) == [.deliver(.moduleInput(input: "in1", bag: "%24.mid=5&a=b", payload: ByteBuffer(string: "x")))])
        #expect(s.receive(.publish(Publish(topic: "elsewhere", payload: ByteBuffer())), now: t0) == [.ignored(topic: "elsewhere")])
    }

    @Test("an operation without an answer fails at its deadline, and a late PUBACK is ignored")
    func timeout() throws {
        var s = ready()
        let (id, actions) = s.submit(.publish(topic: "t", payload: ByteBuffer()), name: "sending a message", timeout: .seconds(30), now: t0)
        let p = try #require(publishes(actions).first)
        #expect(s.tick(now: t0 + .seconds(29)).allSatisfy { if case .complete = $0 { false } else { true } })
        #expect(s.tick(now: t0 + .seconds(30)).contains(.complete(id, .failure(.timedOut(operation: "sending a message", after: .seconds(30))))))
        #expect(s.receive(.puback(packetID: p.packetID!), now: t0 + .seconds(31)).isEmpty)
    }

    @Test("PINGREQ after a quiet keep-alive; no answer within another keep-alive closes the connection")
    func keepAlive() {
        var s = ready()
        #expect(s.tick(now: t0 + .seconds(59)).isEmpty)
        #expect(s.tick(now: t0 + .seconds(60)) == [.send(.pingreq)])
        #expect(s.tick(now: t0 + .seconds(61)).isEmpty, "one PINGREQ at a time")
        #expect(s.receive(.pingresp, now: t0 + .seconds(62)).isEmpty)
        #expect(s.tick(now: t0 + .seconds(119)).isEmpty)
        #expect(s.tick(now: t0 + .seconds(120)) == [.send(.pingreq)])
        let late = s.tick(now: t0 + .seconds(180))
        #expect(late.count == 1)
        if case .close? = late.first {} else { Issue.record("expected close, got \(late)") }
    }

    @Test("shutdown says DISCONNECT and fails what waits")
    func shutdown() {
        var s = ready()
        let (id, _) = s.submit(.publish(topic: "t", payload: ByteBuffer()), name: "send", timeout: .seconds(30), now: t0)
        #expect(s.shutdown() == [.send(.disconnect), .complete(id, .failure(.closed))])
        let (late, actions) = s.submit(.publish(topic: "t", payload: ByteBuffer()), name: "send", timeout: .seconds(30), now: t0)
        #expect(actions == [.complete(late, .failure(.closed))])
    }

    @Test("unexpected packets from the hub close the connection")
    func unexpected() {
        var s = ready()
        let actions = s.receive(.subscribe(Subscribe(packetID: 1, requests: [.init(topicFilter: "a", qos: .atMostOnce)])), now: t0)
        #expect(actions.count == 1)
        if case .close? = actions.first {} else { Issue.record("expected close") }
    }
}

@Suite("Reconnect back-off")
struct ReconnectBackoffTests {
    @Test("1 s doubling to 60 s; jitter only shortens")
    func delays() {
        let b = ReconnectBackoff()
        #expect((0...7).map { b.delay(attempt: $0, random: 0) } == [1, 2, 4, 8, 16, 32, 60, 60].map { Duration.seconds($0) })
        #expect(b.delay(attempt: 100, random: 0) == .seconds(60))
        #expect(b.delay(attempt: 0, random: 0.5) == .milliseconds(900))
        for attempt in 0..<10 {
            let d = b.delay(attempt: attempt)
            #expect(d <= b.delay(attempt: attempt, random: 0) && d >= b.delay(attempt: attempt, random: 1))
        }
    }
}

@Suite("ClientSession: cancellation")
struct ClientSessionCancellationTests {
    @Test("a cancelled operation completes as cancelled and its late PUBACK is ignored")
    func cancel() throws {
        let t0 = ContinuousClock.now
        var s = ClientSession(keepAlive: .seconds(60), now: t0)
        _ = s.connectionOpened(Connect(cleanSession: false, keepAliveSeconds: 60, clientID: "d"), timeout: .seconds(10), now: t0)
        _ = s.receive(.connack(ConnAck(sessionPresent: false, returnCode: .accepted)), now: t0)
        let (id, actions) = s.submit(.publish(topic: "t", payload: ByteBuffer()), name: "send", timeout: .seconds(30), now: t0)
        guard case .send(.publish(let p))? = actions.first else { Issue.record("no PUBLISH"); return }
        #expect(s.cancel(id) == [.complete(id, .failure(.cancelled))])
        #expect(s.cancel(id).isEmpty)
        #expect(s.receive(.puback(packetID: p.packetID!), now: t0).isEmpty)
        #expect(s.pendingOperations == 0)
    }
}
