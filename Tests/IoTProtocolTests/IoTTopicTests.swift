import IoTProtocol
import Testing

@Suite("IoT Hub topics")
struct IoTTopicTests {
    static let dev1 = IdentityID(deviceID: "dev1")
    static let dev2 = IdentityID(deviceID: "dev2")
    static let mod1 = IdentityID(deviceID: "dev1", moduleID: "mod1")

    // MARK: parseInbound

    @Test("device telemetry, with and without a property bag")
    func deviceTelemetry() {
        #expect(IoTTopic.parseInbound("devices/dev1/messages/events/") == .telemetry(Self.dev1, propertyBag: ""))
        #expect(IoTTopic.parseInbound("devices/dev1/messages/events") == .telemetry(Self.dev1, propertyBag: ""))
        #expect(IoTTopic.parseInbound("devices/dev1/messages/events/%24.ct=application%2Fjson&a=b")
            == .telemetry(Self.dev1, propertyBag: "%24.ct=application%2Fjson&a=b"))
    }

    @Test("module telemetry, with and without a property bag")
    func moduleTelemetry() {
        #expect(IoTTopic.parseInbound("devices/dev1/modules/mod1/messages/events/") == .telemetry(Self.mod1, propertyBag: ""))
        #expect(IoTTopic.parseInbound("devices/dev1/modules/mod1/messages/events") == .telemetry(Self.mod1, propertyBag: ""))
        #expect(IoTTopic.parseInbound("devices/dev1/modules/mod1/messages/events/%24.on=out1&k=v")
            == .telemetry(Self.mod1, propertyBag: "%24.on=out1&k=v"))
    }

    @Test("near misses are not telemetry; non-ASCII device ids are kept whole")
    func telemetryNearMisses() {
        #expect(IoTTopic.parseInbound("devices/dev1/messages/eventsX") != .telemetry(Self.dev1, propertyBag: ""))
        #expect(IoTTopic.parseInbound("devices/dev1/messages/event") == nil)
        #expect(IoTTopic.parseInbound("devices/dev1") == nil)
        #expect(IoTTopic.parseInbound("device/dev1/messages/events") == nil)
        #expect(IoTTopic.parseInbound("devices/d\u{e9}v\u{301}/messages/events/k=v")
            == .telemetry(IdentityID(deviceID: "d\u{e9}v\u{301}"), propertyBag: "k=v"))
    }

    @Test("a '/' inside the bag stays in the bag")
    func slashInBag() {
        #expect(IoTTopic.parseInbound("devices/dev1/messages/events/a=b/c") == .telemetry(Self.dev1, propertyBag: "a=b/c"))
        #expect(IoTTopic.parseInbound("devices/dev1/modules/mod1/messages/events/a=b/c/d") == .telemetry(Self.mod1, propertyBag: "a=b/c/d"))
    }

    @Test("twin GET and PATCH carry their $rid")
    func twin() {
        #expect(IoTTopic.parseInbound("$iothub/twin/GET/?$rid=42") == .twinGet(requestID: "42"))
        #expect(IoTTopic.parseInbound("$iothub/twin/GET?$rid=a1") == .twinGet(requestID: "a1"))
        #expect(IoTTopic.parseInbound("$iothub/twin/PATCH/properties/reported/?$rid=7") == .twinPatchReported(requestID: "7"))
        #expect(IoTTopic.parseInbound("$iothub/twin/PATCH/properties/reported/?$version=3&$rid=8") == .twinPatchReported(requestID: "8"))
    }

    @Test("a method response carries its status and $rid")
    func methodResponse() {
        #expect(IoTTopic.parseInbound("$iothub/methods/res/200/?$rid=abc") == .methodResponse(status: 200, requestID: "abc"))
        #expect(IoTTopic.parseInbound("$iothub/methods/res/404/?$rid=1") == .methodResponse(status: 404, requestID: "1"))
    }

    @Test("what a client may not publish to is not an inbound topic", arguments: [
        "foo/bar", "devices", "devices/dev1", "devices/dev1/messages", "devices/dev1/messages/devicebound/",
        "devices/dev1/messages/eventsX/", "devices/dev1/modules/mod1/inputs/in1/", "devices/dev1/modules/mod1/messages",
        "Devices/dev1/messages/events/", "$iothub/twin/GET/", "$iothub/twin/GET/?$rid=", "$iothub/twin/GET/?rid=1",
        "$iothub/twin/res/200/?$rid=1", "$iothub/methods/POST/reboot/?$rid=1", "$iothub/methods/res/ok/?$rid=1",
        "$iothub/methods/res/200", "$iothubx/twin/GET/?$rid=1", "$iothub/twin/PATCH/properties/desired/?$rid=1", "",
    ])
    func notInbound(_ topic: String) {
        #expect(IoTTopic.parseInbound(topic) == nil)
    }

    // MARK: parseSubscription

    @Test("the subscriptions the SDKs make")
    func subscriptions() {
        #expect(IoTTopic.parseSubscription("devices/dev1/messages/devicebound/#") == .cloudToDevice(deviceID: "dev1"))
        #expect(IoTTopic.parseSubscription("devices/dev1/modules/mod1/inputs/#") == .moduleInputs(Self.mod1))
        #expect(IoTTopic.parseSubscription("$iothub/methods/POST/#") == .methods)
        #expect(IoTTopic.parseSubscription("$iothub/twin/res/#") == .twinResponses)
        #expect(IoTTopic.parseSubscription("$iothub/twin/PATCH/properties/desired/#") == .twinDesiredPatches)
    }

    @Test("other filters are not IoT Hub subscriptions", arguments: [
        "#", "+/#", "devices/#", "devices/dev1/messages/devicebound", "devices/dev1/messages/devicebound/+",
        "devices/dev1/messages/events/#", "devices/dev1/modules/mod1/inputs/in1", "$iothub/#", "$iothub/methods/POST/+",
        "$iothub/twin/res", "",
    ])
    func notSubscriptions(_ filter: String) {
        #expect(IoTTopic.parseSubscription(filter) == nil)
    }

    // MARK: authorisation

    @Test("a device publishes only its own telemetry; a module only its own")
    func mayPublish() {
        let dev1Telemetry = IoTTopic.Inbound.telemetry(Self.dev1, propertyBag: "")
        let mod1Telemetry = IoTTopic.Inbound.telemetry(Self.mod1, propertyBag: "")
        #expect(IoTTopic.mayPublish(dev1Telemetry, as: Self.dev1))
        #expect(!IoTTopic.mayPublish(dev1Telemetry, as: Self.dev2))
        #expect(!IoTTopic.mayPublish(dev1Telemetry, as: Self.mod1))
        #expect(IoTTopic.mayPublish(mod1Telemetry, as: Self.mod1))
        #expect(!IoTTopic.mayPublish(mod1Telemetry, as: Self.dev1))
        #expect(!IoTTopic.mayPublish(mod1Telemetry, as: IdentityID(deviceID: "dev1", moduleID: "mod2")))
        #expect(!IoTTopic.mayPublish(mod1Telemetry, as: IdentityID(deviceID: "dev2", moduleID: "mod1")))
        // Twin and method traffic is implicitly the publisher's own.
        #expect(IoTTopic.mayPublish(.twinGet(requestID: "1"), as: Self.dev2))
        #expect(IoTTopic.mayPublish(.methodResponse(status: 200, requestID: "1"), as: Self.mod1))
    }

    @Test("cloud-to-device is the device's own, not its modules'; inputs are the module's own")
    func maySubscribe() {
        #expect(IoTTopic.maySubscribe(.cloudToDevice(deviceID: "dev1"), as: Self.dev1))
        #expect(!IoTTopic.maySubscribe(.cloudToDevice(deviceID: "dev1"), as: Self.dev2))
        #expect(!IoTTopic.maySubscribe(.cloudToDevice(deviceID: "dev1"), as: Self.mod1))
        #expect(IoTTopic.maySubscribe(.moduleInputs(Self.mod1), as: Self.mod1))
        #expect(!IoTTopic.maySubscribe(.moduleInputs(Self.mod1), as: Self.dev1))
        #expect(!IoTTopic.maySubscribe(.moduleInputs(Self.mod1), as: IdentityID(deviceID: "dev1", moduleID: "mod2")))
        for s: IoTTopic.Subscription in [.methods, .twinResponses, .twinDesiredPatches] {
            #expect(IoTTopic.maySubscribe(s, as: Self.dev1))
            #expect(IoTTopic.maySubscribe(s, as: Self.mod1))
        }
    }

    @Test("a wildcard in the device id of a filter grants nothing")
    func wildcardDeviceID() {
        let c2d = IoTTopic.parseSubscription("devices/+/messages/devicebound/#")
        #expect(c2d == .cloudToDevice(deviceID: "+"))
        #expect(!IoTTopic.maySubscribe(c2d!, as: Self.dev1))
    }

    // MARK: builders

    @Test("builders write the topics the SDKs expect")
    func builders() throws {
        let bag = PropertyBag(system: ["message-id": "m1"], application: [("k", "v w")])
        #expect(IoTTopic.telemetry(Self.dev1, bag: bag) == "devices/dev1/messages/events/%24.mid=m1&k=v%20w")
        #expect(IoTTopic.telemetry(Self.mod1, bag: PropertyBag()) == "devices/dev1/modules/mod1/messages/events/")
        #expect(IoTTopic.cloudToDevice(deviceID: "dev1", properties: [("$.mid", "m1"), ("iothub-ack", "full"), ("k", "v w/&")])
            == "devices/dev1/messages/devicebound/%24.mid=m1&iothub-ack=full&k=v%20w%2F%26")
        #expect(IoTTopic.moduleInput(Self.mod1, input: "in1", bag: PropertyBag()) == "devices/dev1/modules/mod1/inputs/in1/")
        #expect(IoTTopic.methodRequest(name: "reboot", requestID: "5") == "$iothub/methods/POST/reboot/?$rid=5")
        #expect(IoTTopic.twinResponse(status: 200, requestID: "9") == "$iothub/twin/res/200/?$rid=9")
        #expect(IoTTopic.twinResponse(status: 204, requestID: "9", version: 3) == "$iothub/twin/res/204/?$rid=9&$version=3")
        #expect(IoTTopic.desiredPatch(version: 12) == "$iothub/twin/PATCH/properties/desired/?$version=12")
    }

    @Test("a built telemetry topic parses back to its identity and bag")
    func builtTelemetryParses() throws {
        let bag = PropertyBag(system: ["content-type": "application/json"], application: [("a", "1"), ("b/c", "x y")])
        for identity in [Self.dev1, Self.mod1] {
            let topic = IoTTopic.telemetry(identity, bag: bag)
            guard case .telemetry(let parsed, let rawBag) = IoTTopic.parseInbound(topic) else {
                Issue.record("\(topic) did not parse as telemetry"); continue
            }
            #expect(parsed == identity)
            #expect(try PropertyBag(parsing: rawBag) == bag)
        }
    }
}
