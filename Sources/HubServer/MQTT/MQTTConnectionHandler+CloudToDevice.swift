import Foundation
import HubStore
import IoTProtocol
import MQTT
import NIOCore

/// The cloud-to-device messages sent on one connection and not yet acknowledged. A message
/// stays in the store until the device's PUBACK, so a dropped connection loses nothing: the
/// next connection sends it again.
struct CloudToDeviceWindow {
    /// Messages in flight at once; the SDKs acknowledge in order, so a small window suffices.
    static let size = 8

    var rowByPacketID: [UInt16: Int64] = [:]
    var rowsInFlight: Set<Int64> = []
    /// Rows acknowledged lately: a fetch that read the store before the completion committed
    /// still lists them, and must not send them again (the last 64 cover any fetch in flight).
    private(set) var recentlyCompleted: [Int64] = []
    var fetching = false
    var fetchAgain = false
    private var nextPacketID: UInt16 = 1

    var isFull: Bool { rowByPacketID.count >= Self.size }

    func isPending(_ row: Int64) -> Bool { !rowsInFlight.contains(row) && !recentlyCompleted.contains(row) }

    mutating func completed(_ row: Int64) {
        rowsInFlight.remove(row)
        recentlyCompleted.append(row)
        if recentlyCompleted.count > 64 { recentlyCompleted.removeFirst(recentlyCompleted.count - 64) }
    }

    mutating func track(row: Int64) -> UInt16 {
        while rowByPacketID[nextPacketID] != nil || nextPacketID == 0 { nextPacketID &+= 1 }
        let id = nextPacketID
        nextPacketID &+= 1
        rowByPacketID[id] = row
        rowsInFlight.insert(row)
        return id
    }
}

extension MQTTConnectionHandler {
    func pumpCloudToDevice() {
        guard pushSubscriptions.withLockedValue({ $0.contains(.cloudToDevice) }),
              let identity = channel.session?.identity, identity.moduleID == nil else { return }
        if c2dInFlight.fetching { c2dInFlight.fetchAgain = true; return }
        guard !c2dInFlight.isFull else { return }
        c2dInFlight.fetching = true
        let store = hub.store
        let device = identity.deviceID
        run({ try await store.pendingCloudToDevice(deviceID: device, now: Date(), limit: 2 * CloudToDeviceWindow.size) }) { [self] result in
            c2dInFlight.fetching = false
            switch result {
            case .success(let messages):
                for message in messages where c2dInFlight.isPending(message.id!) {
                    guard !c2dInFlight.isFull else { break }
                    deliver(message, device: device)
                }
            case .failure(let error):
                logger.error("reading cloud-to-device messages failed", metadata: ["device": "\(device)", "error": "\(error)"])
            }
            if c2dInFlight.fetchAgain {
                c2dInFlight.fetchAgain = false
                pumpCloudToDevice()
            }
        }
    }

    private func deliver(_ message: CloudToDeviceRecord, device: String) {
        let row = message.id!
        let packetID = c2dInFlight.track(row: row)
        let topic = IoTTopic.cloudToDevice(deviceID: device, properties: message.propertyPairs)
        send(.publish(Publish(topic: topic, payload: ByteBuffer(bytes: message.body),
                              qos: .atLeastOnce, duplicate: message.deliveryCount > 0, packetID: packetID)))
        let store = hub.store
        Task { try? await store.markCloudToDeviceDelivered(id: row) }
    }

    func cloudToDeviceAcknowledged(packetID: UInt16) {
        guard let row = c2dInFlight.rowByPacketID.removeValue(forKey: packetID) else { return }
        let store = hub.store
        run({ try await store.completeCloudToDevice(id: row) }) { [self] result in
            if result.isSuccess {
                hub.metrics.increment(.c2dCompleted)
                hub.diagnostics.record(DiagnosticRecord(category: .c2dCommands, operationName: "complete", error: nil,
                                                        deviceID: channel.session?.identity.deviceID, moduleID: nil))
            }
            if case .failure(let error) = result {
                logger.error("completing a cloud-to-device message failed", metadata: ["error": "\(error)"])
            }
            if result.isSuccess { c2dInFlight.completed(row) } else { c2dInFlight.rowsInFlight.remove(row) }
            pumpCloudToDevice()
        }
    }

    /// The connection is gone: messages in flight stay queued for the next one.
    func failInFlightWork() {
        c2dInFlight = CloudToDeviceWindow()
    }
}
