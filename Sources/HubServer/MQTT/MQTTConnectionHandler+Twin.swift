import Foundation
import HubStore
import IoTProtocol
import MQTT
import NIOCore
import Twin

/// Twin requests and server pushes (desired patches, method requests) for one connection.
extension MQTTConnectionHandler {
    func serveTwinGet(requestID: String) {
        guard let identity = channel.session?.identity else { return }
        if let proxy = hub.twinProxy {
            run({ try await proxy.twin(for: identity) }) { [self] result in
                switch result {
                case .success(let twin): twinReply(status: 200, requestID: requestID, body: twin.jsonText)
                case .failure(let error): twinReply(status: 503, requestID: requestID, error: "the twin could not be read upstream: \(error)")
                }
            }
            return
        }
        let store = hub.store
        run({ try await store.twin(deviceID: identity.deviceID, moduleID: identity.moduleID) }) { [self] result in
            switch result {
            case .success(let row?):
                hub.metrics.increment(.deviceTwinReadSuccess)
                twinReply(status: 200, requestID: requestID, body: row.twin.deviceView.jsonText)
            case .success(nil):
                hub.metrics.increment(.deviceTwinReadFailure)
                twinReply(status: 404, requestID: requestID, error: "\(identity) is no longer registered")
            case .failure(let error):
                hub.metrics.increment(.deviceTwinReadFailure)
                logger.error("reading a twin failed", metadata: ["client": "\(identity)", "error": "\(error)"])
                twinReply(status: 500, requestID: requestID, error: "the hub could not read the twin")
            }
        }
    }

    func serveReportedPatch(requestID: String, payload: ByteBuffer) {
        guard let identity = channel.session?.identity else { return }
        let patch: [String: JSONValue]
        switch try? JSONValue(parsing: Data(payload.readableBytesView)) {
        case .object(let object)?: patch = object
        default:
            hub.metrics.increment(.deviceTwinUpdateFailure)
            twinReply(status: 400, requestID: requestID, error: "the reported-properties patch must be a JSON object")
            return
        }
        if let proxy = hub.twinProxy {
            run({ try await proxy.patchReported(for: identity, .object(patch)) }) { [self] result in
                switch result {
                case .success(let version): twinReply(status: 204, requestID: requestID, version: version)
                case .failure(let error): twinReply(status: 503, requestID: requestID, error: "the patch could not be sent upstream: \(error)")
                }
            }
            return
        }
        let store = hub.store
        let now = Date()
        run({
            try await store.updateTwin(deviceID: identity.deviceID, moduleID: identity.moduleID, ifMatch: nil) { twin in
                try twin.patchReported(patch, at: now)
            }.1
        }) { [self] result in
            hub.metrics.increment(result.isSuccess ? .deviceTwinUpdateSuccess : .deviceTwinUpdateFailure)
            switch result {
            case .success(let version):
                twinReply(status: 204, requestID: requestID, version: version)
            case .failure(let violation as TwinRules.Violation):
                twinReply(status: 400, requestID: requestID, error: violation.description)
            case .failure(StoreError.notFound):
                twinReply(status: 404, requestID: requestID, error: "\(identity) is no longer registered")
            case .failure(let error):
                logger.error("updating reported properties failed", metadata: ["client": "\(identity)", "error": "\(error)"])
                twinReply(status: 500, requestID: requestID, error: "the hub could not save the patch")
            }
        }
    }

    /// Answers on `$iothub/twin/res/{status}/?$rid=…`, if the client listens there (a broker
    /// drops what nobody subscribed to).
    private func twinReply(status: Int, requestID: String, version: Int? = nil, body: String = "", error: String? = nil) {
        guard pushSubscriptions.withLockedValue({ $0.contains(.twinResponses) }) else {
            logger.debug("twin answer dropped: the client is not subscribed to $iothub/twin/res/#", metadata: ["status": "\(status)"])
            return
        }
        var payload = body
        if let error {
            payload = JSONValue.object(["errorCode": .number(Double(status * 1000 + 4)), "message": .string(error)]).jsonText
            logger.info("twin request refused", metadata: ["client": "\(registeredClientID ?? "-")", "status": "\(status)", "reason": "\(error)"])
        }
        send(.publish(Publish(topic: IoTTopic.twinResponse(status: status, requestID: requestID, version: version),
                              payload: ByteBuffer(string: payload))))
    }

    func receivePush(_ push: ServerPush) {
        let kinds = pushSubscriptions.withLockedValue { $0 }
        switch push {
        case .desiredPatch(let patch):
            guard kinds.contains(.desiredPatches), let version = patch["$version"]?.numberValue else { return }
            send(.publish(Publish(topic: IoTTopic.desiredPatch(version: Int(version)), payload: ByteBuffer(string: patch.jsonText))))
        case .methodRequest(let name, let requestID, let payload):
            // The dispatcher checked the subscription; if it went since, the request times out.
            guard kinds.contains(.methods) else { return }
            send(.publish(Publish(topic: IoTTopic.methodRequest(name: name, requestID: requestID), payload: payload)))
        case .cloudToDeviceQueued:
            pumpCloudToDevice()
        case .moduleInput(let input, let properties, let payload, let receipt):
            guard kinds.contains(.moduleInputs), let identity = channel.session?.identity else {
                receipt?.complete(false)
                return
            }
            let packetID = inputsInFlight.track(receipt)
            send(.publish(Publish(topic: IoTTopic.moduleInput(identity, input: input, bag: properties), payload: payload,
                                  qos: .atLeastOnce, packetID: packetID)))
        }
    }

    /// Called whenever the session's subscriptions change (CONNECT with a stored session,
    /// SUBSCRIBE, UNSUBSCRIBE).
    func subscriptionsChanged() {
        let kinds = PushSubscriptions(filters: channel.session?.subscriptions.keys.map { $0 } ?? [])
        pushSubscriptions.withLockedValue { $0 = kinds }
        if kinds.contains(.cloudToDevice) { pumpCloudToDevice() }
    }

    /// Runs store work off the event loop and continues on it, unless the connection closed.
    func run<T: Sendable>(_ work: @escaping @Sendable () async throws -> T,
                          then: @escaping (Result<T, Error>) -> Void) {
        guard let context else { return }
        let promise = context.eventLoop.makePromise(of: T.self)
        promise.completeWithTask(work)
        promise.futureResult.whenComplete { [self] result in
            guard isOpen else { return }
            then(result)
        }
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
