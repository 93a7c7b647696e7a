import Foundation
@testable import HubServer
import HubStore
import Testing

@Suite("Telemetry feed: the last committed messages in memory")
struct TelemetryFeedTests {
    static func records(_ range: ClosedRange<Int64>, device: (Int64) -> String = { _ in "d" }, bodyBytes: Int = 10) -> [TelemetryRecord] {
        range.map { n in
            TelemetryRecord(sequenceNumber: n, deviceId: device(n), moduleId: nil, enqueuedTime: 0,
                            body: Data(repeating: 1, count: bodyBytes), properties: "{}", systemProperties: "{}")
        }
    }

    static func numbers(_ records: [TelemetryRecord]?) -> [Int64]? { records?.map { $0.sequenceNumber ?? -1 } }

    @Test("a reader behind what memory holds is sent to the store")
    func behindMemoryReadsTheStore() {
        let feed = TelemetryFeed(latest: 100)
        #expect(feed.recent(after: 100, limit: 10) == nil, "nothing committed since start: the store knows")
        feed.publish(Self.records(101...110))
        #expect(feed.latest == 110)
        #expect(feed.recent(after: 99, limit: 10) == nil, "message 100 is only in the store")
        #expect(Self.numbers(feed.recent(after: 100, limit: 3)) == [101, 102, 103])
        #expect(Self.numbers(feed.recent(after: 107, limit: 10)) == [108, 109, 110])
        #expect(Self.numbers(feed.recent(after: 110, limit: 10)) == [], "at the head: nothing new, no store read")
    }

    @Test("a device filter skips other devices' messages")
    func deviceFilter() {
        let feed = TelemetryFeed()
        feed.publish(Self.records(1...20, device: { $0 % 5 == 0 ? "five" : "other" }))
        #expect(Self.numbers(feed.recent(after: 0, deviceID: "five", limit: 3)) == [5, 10, 15])
        #expect(Self.numbers(feed.recent(after: 15, deviceID: "five", limit: 3)) == [20])
        #expect(Self.numbers(feed.recent(after: 0, deviceID: "none", limit: 3)) == [])
    }

    @Test("memory keeps at most the message limit, then the oldest go to the store only")
    func countLimit() {
        let feed = TelemetryFeed(recentLimit: 5)
        feed.publish(Self.records(1...4))
        feed.publish(Self.records(5...8))
        #expect(feed.recent(after: 2, limit: 10) == nil)
        #expect(Self.numbers(feed.recent(after: 3, limit: 10)) == [4, 5, 6, 7, 8])
    }

    @Test("memory keeps at most the byte limit")
    func byteLimit() {
        let feed = TelemetryFeed(recentLimit: 1000, recentByteLimit: 10_000)
        feed.publish(Self.records(1...10, bodyBytes: 3_000))
        let held = Self.numbers(feed.recent(after: 7, limit: 100))
        #expect(held == [8, 9, 10])
        #expect(feed.recent(after: 6, limit: 100) == nil)
    }

    @Test("a limit of 0 keeps nothing: every read goes to the store")
    func turnedOff() {
        let feed = TelemetryFeed(recentLimit: 0)
        feed.publish(Self.records(1...3))
        #expect(feed.latest == 3)
        #expect(feed.recent(after: 0, limit: 10) == nil)
    }
}
