import IoTProtocol
import Testing

@Suite("IoTTopic: the client's side")
struct IoTTopicClientTests {
    @Test("what the hub sends parses back from what the hub builds")
    func outbound() {
        #expect(IoTTopic.parseOutbound(IoTTopic.twinResponse(status: 204, requestID: "7", version: 12))
            == .twinResponse(status: 204, requestID: "7", version: 12))
        #expect(IoTTopic.parseOutbound(IoTTopic.twinResponse(status: 200, requestID: "a1"))
            == .twinResponse(status: 200, requestID: "a1", version: nil))
        #expect(IoTTopic.parseOutbound(IoTTopic.desiredPatch(version: 5)) == .desiredPatch(version: 5))
        #expect(IoTTopic.parseOutbound(IoTTopic.methodRequest(name: "reboot", requestID: "3")) == .methodRequest(name: "reboot", requestID: "3"))
        #expect(IoTTopic.parseOutbound(IoTTopic.cloudToDevice(deviceID: "d1", properties: [("$.mid", "m1"), ("a", "b c")]))
            == .cloudToDevice(deviceID: "d1", propertyBag: "%24.mid=m1&a=b%20c"))
        #expect(IoTTopic.parseOutbound("devices/d1/messages/devicebound/") == .cloudToDevice(deviceID: "d1", propertyBag: ""))
        let module = IdentityID(deviceID: "d1", moduleID: "m1")
        #expect(IoTTopic.parseOutbound(IoTTopic.moduleInput(module, input: "in1", bag: PropertyBag(application: [("k", "v")])))
            == .moduleInput(module, input: "in1", propertyBag: "k=v"))
    }

    @Test("anything else is nil", arguments: [
        "", "devices/d1/messages/events/", "$iothub/twin/res/200/", "$iothub/twin/res/abc/?$rid=1",
        "$iothub/methods/POST/?$rid=1", "$iothub/other/?$rid=1", "devices/d1/modules/m1/inputs/",
    ])
    func rejects(topic: String) {
        #expect(IoTTopic.parseOutbound(topic) == nil)
    }

    @Test("requests the client publishes are what the hub parses")
    func requests() {
        #expect(IoTTopic.parseInbound(IoTTopic.twinGetRequest(requestID: "1")) == .twinGet(requestID: "1"))
        #expect(IoTTopic.parseInbound(IoTTopic.reportedPatchRequest(requestID: "2")) == .twinPatchReported(requestID: "2"))
        #expect(IoTTopic.parseInbound(IoTTopic.methodResponse(status: 200, requestID: "3")) == .methodResponse(status: 200, requestID: "3"))
    }

    @Test("subscription filters round-trip", arguments: [
        IoTTopic.Subscription.methods, .twinResponses, .twinDesiredPatches, .cloudToDevice(deviceID: "d1"),
        .moduleInputs(IdentityID(deviceID: "d1", moduleID: "$edgeAgent")),
    ])
    func filters(subscription: IoTTopic.Subscription) {
        #expect(IoTTopic.parseSubscription(IoTTopic.filter(subscription)) == subscription)
    }

    @Test("the user name is the SDK's and parses back")
    func username() throws {
        let text = MQTTUsername.text(hostName: "hub.example", clientID: "d1/$edgeAgent", deviceClientType: "Outpost/1.0 (Swift)")
        #expect(text == "hub.example/d1/$edgeAgent/?api-version=2019-10-01&DeviceClientType=Outpost%2F1.0%20%28Swift%29")
        let parsed = try #require(MQTTUsername(parsing: text))
        #expect(parsed.clientID == "d1/$edgeAgent" && parsed.deviceClientType == "Outpost/1.0 (Swift)" && parsed.apiVersion == "2019-10-01")
        let withModel = MQTTUsername.text(hostName: "h", clientID: "d", deviceClientType: "x", modelID: "dtmi:a:b;1")
        #expect(MQTTUsername(parsing: withModel)?.modelID == "dtmi:a:b;1")
        #expect(MQTTUsername(parsing: withModel)?.apiVersion == "2020-09-30")
    }
}
