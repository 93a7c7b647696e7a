import NIOConcurrencyHelpers

/// Tells whoever pushed a QoS 1 message (edgeHub's router, sending to a module's input) when
/// the client acknowledged it, or that it never will (not subscribed, connection gone), so the
/// message is only counted as delivered after the PUBACK.
public final class DeliveryReceipt: Sendable {
    private enum State { case waiting(CheckedContinuation<Bool, Never>?), done(Bool) }
    private let state = NIOLockedValueBox<State>(.waiting(nil))

    public init() {}

    public func complete(_ acknowledged: Bool) {
        let waiter: CheckedContinuation<Bool, Never>? = state.withLockedValue { s in
            guard case .waiting(let c) = s else { return nil }
            s = .done(acknowledged)
            return c
        }
        waiter?.resume(returning: acknowledged)
    }

    /// Whether the client acknowledged within `seconds`.
    public func wait(seconds: Double) async -> Bool {
        let timeout = Task { [self] in
            try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            complete(false)
        }
        defer { timeout.cancel() }
        return await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            let done: Bool? = state.withLockedValue { s in
                switch s {
                case .done(let ok): return ok
                case .waiting: s = .waiting(c); return nil
                }
            }
            if let done { c.resume(returning: done) }
        }
    }
}

/// The module input messages one connection has in flight, by packet id. Ids start at 0x8000
/// so they never meet cloud-to-device ids (a device's; inputs go to modules).
struct InputWindow {
    private var receipts: [UInt16: DeliveryReceipt] = [:]
    private var nextPacketID: UInt16 = 0x8000

    mutating func track(_ receipt: DeliveryReceipt?) -> UInt16 {
        while receipts[nextPacketID] != nil || nextPacketID < 0x8000 { nextPacketID = nextPacketID &+ 1 | 0x8000 }
        let id = nextPacketID
        nextPacketID = nextPacketID &+ 1 | 0x8000
        if let receipt { receipts[id] = receipt }
        return id
    }

    mutating func acknowledge(_ packetID: UInt16) -> DeliveryReceipt? { receipts.removeValue(forKey: packetID) }

    mutating func abandonAll() {
        for receipt in receipts.values { receipt.complete(false) }
        receipts = [:]
    }
}
