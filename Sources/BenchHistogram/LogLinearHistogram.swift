/// A compact log-linear histogram in the manner of HdrHistogram: values below 128 are counted
/// exactly; above, each power of two is split into 64 equal buckets, so any recorded value is
/// reported within 1/64 (1.6 %) of itself. Fixed memory (about 30 KB), O(1) record, mergeable,
/// which is what a load generator needs for latencies from microseconds to minutes.
public struct LogLinearHistogram: Sendable, Equatable {
    /// log2 of the sub-buckets per power of two above the exact range.
    static let subBits = 6
    static let subCount = 1 << subBits          // 64
    static let exactLimit: UInt64 = 1 << (subBits + 1)  // 128: below this, one bucket per value
    static let bucketCount = Int(exactLimit) + (64 - subBits - 1) * subCount

    private var counts: [UInt64]
    public private(set) var count: UInt64 = 0
    public private(set) var min: UInt64 = .max
    public private(set) var max: UInt64 = 0
    private var sum: Double = 0

    public init() { counts = Array(repeating: 0, count: Self.bucketCount) }

    public mutating func record(_ value: UInt64, count n: UInt64 = 1) {
        counts[Self.index(of: value)] += n
        count += n
        min = Swift.min(min, value)
        max = Swift.max(max, value)
        sum += Double(value) * Double(n)
    }

    public mutating func merge(_ other: LogLinearHistogram) {
        guard other.count > 0 else { return }
        for i in 0..<counts.count where other.counts[i] != 0 { counts[i] += other.counts[i] }
        count += other.count
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
        sum += other.sum
    }

    public var mean: Double { count == 0 ? 0 : sum / Double(count) }

    /// The smallest recorded-bucket value at or below which `percentile` % of the values lie,
    /// reported as the bucket's highest value and never above the largest value seen; 0 when empty.
    public func value(atPercentile percentile: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        let p = Swift.min(Swift.max(percentile, 0), 100)
        let rank = Swift.max(1, UInt64((p / 100 * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for (i, c) in counts.enumerated() where c != 0 {
            seen += c
            if seen >= rank { return Swift.min(Self.highestValue(inBucket: i), max) }
        }
        return max
    }

    static func index(of value: UInt64) -> Int {
        if value < exactLimit { return Int(value) }
        let msb = 63 - value.leadingZeroBitCount            // ≥ subBits + 1
        let shift = msb - subBits                           // value >> shift is in [64, 128)
        let sub = Int(value >> UInt64(shift)) - subCount
        return Int(exactLimit) + (shift - 1) * subCount + sub
    }

    static func highestValue(inBucket index: Int) -> UInt64 {
        if index < Int(exactLimit) { return UInt64(index) }
        let shift = (index - Int(exactLimit)) / subCount + 1
        let sub = UInt64((index - Int(exactLimit)) % subCount + subCount)
        let low = sub << UInt64(shift)
        return low + ((1 << UInt64(shift)) - 1)
    }
}
