/// Where one device's messages are. Instead of an index entry per message, which cost a commit
/// one index page per device in it, the store keeps a `messageBlocks` row for each block of
/// 1,024 sequence numbers in which a device sent, and a reader for one device reads only those
/// blocks.
struct TelemetryBlocks {
    static let shift: Int64 = 10

    static func block(of sequenceNumber: Int64) -> Int64 { sequenceNumber >> shift }
    static func firstSequenceNumber(of block: Int64) -> Int64 { block << shift }

    /// The writer's newest block and the devices that already have its row, so that only a
    /// device's first message in a block inserts one.
    private var current: Int64 = -1
    private var recorded: Set<String> = []

    /// Whether `(block, deviceId)` still needs its row; from now on it counts as recorded.
    mutating func needsRow(block: Int64, deviceId: String) -> Bool {
        if block > current {
            current = block
            recorded.removeAll(keepingCapacity: true)
        }
        // An older block cannot come from the writer, whose sequence numbers only grow; its row
        // is inserted anyway (the insert ignores a duplicate).
        if block < current { return true }
        return recorded.insert(deviceId).inserted
    }
}
