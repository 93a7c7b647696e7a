@testable import HubServer
import Testing

@Suite("Heap trim after connections close")
struct HeapTrimPolicyTests {
    /// Feeds the samples and returns the indexes at which a trim was due.
    func trims(_ samples: [Int], minimumDrop: Int = 1_000) -> [Int] {
        var policy = HeapTrimPolicy(minimumDrop: minimumDrop)
        return samples.indices.filter { policy.observe(connections: samples[$0]) }
    }

    @Test("a large drop trims once, after the count has stopped falling")
    func largeDrop() {
        #expect(trims([0, 5_000, 10_000, 10_000, 6_000, 2_000, 100, 100, 100, 100]) == [7])
    }

    @Test("no trim for small drops, or for drops that leave more than half of the peak")
    func smallDrops() {
        #expect(trims([0, 800, 800, 0, 0, 0]).isEmpty)
        #expect(trims([10_000, 10_000, 8_000, 8_000, 6_000, 6_000]).isEmpty)
    }

    @Test("the peak starts over after a trim: the next storm and drop trims again")
    func peakStartsOver() {
        let samples = [3_000, 3_000, 0, 0, 0, 3_000, 3_000, 500, 500]
        #expect(trims(samples) == [3, 8])
    }
}
