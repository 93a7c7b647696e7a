import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif

/// A date as GRDB stores one, "yyyy-MM-dd HH:mm:ss.SSS" in UTC, made with gmtime_r instead of
/// GRDB's DateFormatter. That formatter is ICU's: edgeHub, idle, ran ICU and Foundation's date
/// code at every route checkpoint (`setConsumerGroupPosition`), which kept their pages resident
/// (BENCHMARKS.md). The text is the same, so columns written either way compare and read alike.
public struct StoredTime: DatabaseValueConvertible, Sendable {
    public var date: Date

    public init(_ date: Date) { self.date = date }

    public var databaseValue: DatabaseValue { Self.text(date).databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> StoredTime? {
        Date.fromDatabaseValue(dbValue).map(StoredTime.init)
    }

    /// The text for `date`, to the nearest millisecond as Foundation hands the date to ICU.
    public static func text(_ date: Date) -> String {
        let milliseconds = ((date.timeIntervalSinceReferenceDate + 978_307_200) * 1000 + 0.5).rounded(.down)
        var seconds = time_t((milliseconds / 1000).rounded(.down))
        let millis = Int(milliseconds - Double(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var out = ""
        out.reserveCapacity(23)
        func pad(_ value: Int32, _ width: Int) {
            let digits = String(value)
            if digits.count < width { out += String(repeating: "0", count: width - digits.count) }
            out += digits
        }
        pad(parts.tm_year + 1900, 4); out += "-"
        pad(parts.tm_mon + 1, 2); out += "-"
        pad(parts.tm_mday, 2); out += " "
        pad(parts.tm_hour, 2); out += ":"
        pad(parts.tm_min, 2); out += ":"
        pad(parts.tm_sec, 2); out += "."
        pad(Int32(millis), 3)
        return out
    }
}
