import Foundation
import GRDB
import HubStore
import Testing

@Suite("Stored times without ICU")
struct StoredTimeTests {
    @Test("the text is GRDB's own for the same date, to the millisecond")
    func sameTextAsGRDB() {
        var generator = SystemRandomNumberGenerator()
        var dates = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 951_782_400.999),  // 2000-02-29
                     Date(timeIntervalSince1970: 1_798_761_599.9995), Date(timeIntervalSince1970: 4_102_444_800.001), Date()]
        for _ in 0..<2_000 {
            dates.append(Date(timeIntervalSince1970: Double(Int64.random(in: 0..<4_102_444_800_000, using: &generator)) / 1000))
        }
        for date in dates {
            #expect(StoredTime(date).databaseValue == date.databaseValue, "\(date.timeIntervalSince1970)")
        }
    }

    @Test("it reads back as the date, and a GRDB-written date reads as a StoredTime")
    func roundTrip() throws {
        let queue = try DatabaseQueue()
        let date = Date(timeIntervalSince1970: 1_765_000_000.123)
        let (mine, theirs) = try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (a TEXT, b TEXT)")
            try db.execute(sql: "INSERT INTO t VALUES (?, ?)", arguments: [StoredTime(date), date])
            let row = try Row.fetchOne(db, sql: "SELECT a, b FROM t")!
            return (row["a"] as StoredTime?, row["b"] as StoredTime?)
        }
        #expect(abs(mine!.date.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.001)
        #expect(mine?.date == theirs?.date)
    }
}
