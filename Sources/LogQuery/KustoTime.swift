#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Datetime and timespan literals and text, in Kusto's units: ticks of 100 ns. Literals keep
/// exact ticks (so a printed query reads back the same); values are `Date`s and seconds.
enum KustoTime {
    static let ticksPerSecond: Int64 = 10_000_000
    /// Kusto's datetimes run from 0001-01-01 to 9999-12-31; arithmetic past either end is null.
    static let minSeconds: Double = -62_135_596_800
    static let maxSeconds: Double = 253_402_300_800
    /// 0001-01-01, where Kusto's ticks start: `bin()` on datetimes counts bins from there.
    static let binOrigin: Double = 62_135_596_800

    static let unitTicks: [String: Int64] = {
        var units: [String: Int64] = [:]
        for (names, ticks) in [
            (["d", "day", "days"], 864_000_000_000),
            (["h", "hr", "hrs", "hour", "hours"], 36_000_000_000),
            (["m", "min", "minute", "minutes"], 600_000_000),
            (["s", "sec", "second", "seconds"], 10_000_000),
            (["ms", "milli", "millis", "millisecond", "milliseconds"], 10_000),
            (["microsecond", "microseconds"], 10),
            (["tick", "ticks"], 1),
        ] as [([String], Int64)] {
            for name in names { units[name] = ticks }
        }
        return units
    }()

    static func date(ticks: Int64) -> Date { Date(timeIntervalSince1970: Double(ticks) / Double(ticksPerSecond)) }

    /// A datetime `seconds` after 1970, or null outside Kusto's range (or NaN).
    static func datetime(seconds: Double) -> LogValue {
        seconds >= minSeconds && seconds < maxSeconds ? .datetime(Date(timeIntervalSince1970: seconds)) : .null
    }

    // MARK: literals

    /// `1.5` `h` → ticks; nil for an unknown unit or overflow. Fractions below a tick round.
    static func ticks(number: Substring, unit: Substring) -> Int64? {
        guard let perUnit = unitTicks[unit.lowercased()] else { return nil }
        let parts = number.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = Int64(parts[0]) else { return nil }
        var (ticks, overflow) = whole.multipliedReportingOverflow(by: perUnit)
        if overflow { return nil }
        if parts.count == 2 {
            guard let fraction = Double("0." + parts[1]) else { return nil }
            (ticks, overflow) = ticks.addingReportingOverflow(Int64((fraction * Double(perUnit)).rounded()))
            if overflow { return nil }
        }
        return ticks
    }

    /// The shortest literal for `ticks`, in the largest unit that divides it: `5m`, `90s`, `100ms`.
    static func timespanLiteral(ticks: Int64) -> String {
        for (unit, size) in [("d", 864_000_000_000), ("h", 36_000_000_000), ("m", 600_000_000), ("s", 10_000_000),
                             ("ms", 10_000), ("microsecond", 10)] as [(String, Int64)] where ticks % size == 0 {
            return "\(ticks / size)\(unit)"
        }
        return "\(ticks)tick"
    }

    /// ISO 8601 as Kusto reads it: `2026-11-25`, `2026-11-25T07:00`, `2026-11-25 07:00:00.123`,
    /// optionally ending in `Z` or an offset (`+02:00`); no zone is UTC. Ticks since 1970.
    static func parseDatetime(_ text: String) -> Int64? {
        var cursor = Cursor(String(trimmed(text)))
        guard let year = cursor.digits(4), cursor.skip("-"), let month = cursor.digits(2), cursor.skip("-"),
              let day = cursor.digits(2), year >= 1, (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day)
        else { return nil }
        var seconds = daysFromCivil(year: Int64(year), month: Int64(month), day: Int64(day)) * 86_400
        var fraction: Int64 = 0
        if cursor.skip("T") || cursor.skip(" ") {
            guard let hour = cursor.digits(2), hour < 24, cursor.skip(":"), let minute = cursor.digits(2), minute < 60 else { return nil }
            var second = 0
            if cursor.skip(":") {
                guard let s = cursor.digits(2), s < 60 else { return nil }
                second = s
                if cursor.skip(".") {
                    guard let f = cursor.fraction(digits: 7) else { return nil }
                    fraction = f
                }
            }
            seconds += Int64(hour * 3600 + minute * 60 + second)
            if cursor.skip("Z") || cursor.skip("z") {
            } else if let sign = cursor.sign() {
                guard let h = cursor.digits(2), h < 24 else { return nil }
                _ = cursor.skip(":")
                guard let m = cursor.digits(2), m < 60 else { return nil }
                seconds -= sign * Int64(h * 3600 + m * 60)
            }
        }
        guard cursor.atEnd else { return nil }
        return seconds * ticksPerSecond + fraction
    }

    /// `time(…)`/`totimespan()` text: `5m`, `1.5h`, a number of days, or `[-][d.]hh:mm[:ss[.fffffff]]`.
    static func parseTimespan(_ text: String) -> Int64? {
        let s = trimmed(text)
        let negative = s.hasPrefix("-")
        let body = negative ? s.dropFirst() : s
        guard let magnitude = parseUnsignedTimespan(body) else { return nil }
        return negative ? -magnitude : magnitude
    }

    private static func parseUnsignedTimespan(_ body: Substring) -> Int64? {
        if let unitStart = body.firstIndex(where: { $0.isLetter }), unitStart > body.startIndex,
           body[unitStart...].allSatisfy(\.isLetter) {
            return ticks(number: body[..<unitStart], unit: body[unitStart...])
        }
        if !body.contains(":") {
            return ticks(number: body, unit: "d")
        }
        let parts = body.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3 else { return nil }
        let dayAndHour = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        guard dayAndHour.count <= 2, let hours = Int64(dayAndHour.last!), let minutes = Int64(parts[1]), minutes < 60 else { return nil }
        let days = dayAndHour.count == 2 ? Int64(dayAndHour[0]) : 0
        guard let days, days >= 0, hours >= 0, minutes >= 0, days < 10_000_000, hours < 24 || dayAndHour.count == 1, hours < 1_000_000 else { return nil }
        var total = ((days * 24 + hours) * 60 + minutes) * 60 * ticksPerSecond
        if parts.count == 3 {
            guard let secondTicks = ticks(number: parts[2], unit: "s"), secondTicks >= 0, secondTicks < 60 * ticksPerSecond else { return nil }
            total += secondTicks
        }
        return total
    }

    static func trimmed(_ text: String) -> Substring {
        let start = text.drop(while: \.isWhitespace)
        return start[..<(start.lastIndex(where: { !$0.isWhitespace }).map(start.index(after:)) ?? start.startIndex)]
    }

    // MARK: text

    /// `2026-11-25T07:00:00Z`, with a fraction of up to 7 digits when there is one.
    static func isoText(ticks: Int64) -> String {
        let (seconds, fraction) = floorDivision(ticks, ticksPerSecond)
        return isoText(seconds: seconds, fraction: fraction, digits: 7)
    }

    /// A datetime value to the microsecond (a `Date` holds no more near today).
    static func isoText(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        guard seconds.isFinite, abs(seconds) < 9e12 else { return seconds.description }
        let (whole, micros) = floorDivision(Int64((seconds * 1e6).rounded()), 1_000_000)
        return isoText(seconds: whole, fraction: micros, digits: 6)
    }

    private static func isoText(seconds: Int64, fraction: Int64, digits: Int) -> String {
        let (days, secondOfDay) = floorDivision(seconds, 86_400)
        let (year, month, day) = civilFromDays(days)
        var text = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T"
        text += pad(secondOfDay / 3600, 2) + ":" + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2)
        return text + fractionText(fraction, digits: digits) + "Z"
    }

    /// Kusto's timespan text: `[-][d.]hh:mm:ss[.fffffff]`, e.g. `00:05:00`, `1.02:00:00`.
    static func timespanText(seconds: Double) -> String {
        guard seconds.isFinite, abs(seconds) < 9e11 else { return LogValue.realText(seconds) }
        let ticks = Int64((seconds * Double(ticksPerSecond)).rounded())
        let magnitude = ticks.magnitude
        let whole = Int64(magnitude / UInt64(ticksPerSecond))
        let days = whole / 86_400
        var text = ticks < 0 ? "-" : ""
        if days > 0 { text += "\(days)." }
        text += pad(whole / 3600 % 24, 2) + ":" + pad(whole / 60 % 60, 2) + ":" + pad(whole % 60, 2)
        let fraction = Int64(magnitude % UInt64(ticksPerSecond))
        return text + (fraction == 0 ? "" : "." + pad(fraction, 7))
    }

    /// `.123` for 1230000 of 7 digits; "" for no fraction.
    private static func fractionText(_ fraction: Int64, digits: Int) -> String {
        guard fraction != 0 else { return "" }
        var text = pad(fraction, digits)
        while text.hasSuffix("0") { text.removeLast() }
        return "." + text
    }

    private static func pad(_ n: Int64, _ width: Int) -> String {
        let digits = String(n.magnitude)
        return (n < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    // MARK: calendar (proleptic Gregorian, UTC; Howard Hinnant's algorithms)

    static func floorDivision(_ a: Int64, _ b: Int64) -> (quotient: Int64, remainder: Int64) {
        let q = a / b
        let r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }

    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Reads fixed-width fields of a datetime.
    private struct Cursor {
        let chars: [Character]
        var index = 0

        init(_ text: String) { chars = Array(text) }

        var atEnd: Bool { index == chars.count }

        mutating func skip(_ c: Character) -> Bool {
            guard index < chars.count, chars[index] == c else { return false }
            index += 1
            return true
        }

        mutating func digits(_ count: Int) -> Int? {
            guard index + count <= chars.count else { return nil }
            var value = 0
            for c in chars[index..<index + count] {
                guard let d = c.asciiDigit else { return nil }
                value = value * 10 + d
            }
            index += count
            return value
        }

        /// One or more digits of a fraction of a second, as `digits` digits (more are cut).
        mutating func fraction(digits: Int) -> Int64? {
            var value: Int64 = 0
            var read = 0
            while index < chars.count, let d = chars[index].asciiDigit {
                if read < digits { value = value * 10 + Int64(d) }
                read += 1
                index += 1
            }
            guard read > 0 else { return nil }
            for _ in read..<max(read, digits) { value *= 10 }
            return value
        }

        mutating func sign() -> Int64? {
            if skip("+") { return 1 }
            if skip("-") { return -1 }
            return nil
        }
    }
}

private extension Character {
    var asciiDigit: Int? {
        guard let ascii = asciiValue, (48...57).contains(ascii) else { return nil }
        return Int(ascii - 48)
    }
}
