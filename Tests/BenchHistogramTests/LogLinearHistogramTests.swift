import Testing
@testable import BenchHistogram

@Suite struct LogLinearHistogramTests {
    @Test func emptyReportsZero() {
        let h = LogLinearHistogram()
        #expect(h.count == 0)
        #expect(h.value(atPercentile: 50) == 0)
        #expect(h.mean == 0)
    }

    @Test func smallValuesAreExact() {
        var h = LogLinearHistogram()
        for v in UInt64(0)..<128 { h.record(v) }
        #expect(h.value(atPercentile: 50) == 63)
        #expect(h.value(atPercentile: 100) == 127)
        #expect(h.min == 0 && h.max == 127)
    }

    @Test func bucketsCoverEveryValueWithinOneSixtyFourth() {
        var v: UInt64 = 1
        while v < UInt64.max / 3 {
            for probe in [v, v + v / 3, v * 2 - 1] {
                let i = LogLinearHistogram.index(of: probe)
                let high = LogLinearHistogram.highestValue(inBucket: i)
                #expect(high >= probe)
                #expect(Double(high - probe) <= Double(probe) / 64 + 1)
                #expect(i < LogLinearHistogram.bucketCount)
            }
            v *= 3
        }
        #expect(LogLinearHistogram.index(of: .max) == LogLinearHistogram.bucketCount - 1)
    }

    @Test func percentilesOfAUniformRange() {
        var h = LogLinearHistogram()
        for v in UInt64(1)...10_000 { h.record(v) }
        for (p, expected) in [(50.0, 5_000.0), (90, 9_000), (99, 9_900)] {
            let got = Double(h.value(atPercentile: p))
            #expect(abs(got - expected) / expected < 0.02, "p\(p) = \(got)")
        }
        #expect(h.value(atPercentile: 100) == 10_000)
        #expect(abs(h.mean - 5_000.5) < 0.001)
    }

    @Test func mergeEqualsRecordingBoth() {
        var a = LogLinearHistogram(), b = LogLinearHistogram(), both = LogLinearHistogram()
        for v in [3, 900, 70_000] as [UInt64] { a.record(v); both.record(v) }
        for v in [5, 1_000_000] as [UInt64] { b.record(v); both.record(v) }
        a.merge(b)
        #expect(a == both)
        #expect(a.min == 3 && a.max == 1_000_000 && a.count == 5)
    }
}
