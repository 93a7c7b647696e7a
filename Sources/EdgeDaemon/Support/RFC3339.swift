#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// RFC 3339 timestamps in UTC (`2026-11-25T10:11:12.123456Z`), as log lines and the management
/// API write them. Done with `gmtime_r`/`timegm` rather than Foundation's formatters: a log line
/// is written for every line a module prints, and the edge daemon keeps Foundation out of its
/// hot paths (DESIGN.md "Memory on the edge").
public enum RFC3339 {
    /// Seconds since 1970 as `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`; `fractionDigits` 0 leaves the
    /// fraction out, up to 9 digits.
    public static func format(_ seconds: Double, fractionDigits: Int = 6) -> String {
        var whole = seconds.rounded(.down)
        var fraction = seconds - whole
        let scale = pow10(max(0, min(9, fractionDigits)))
        var scaled = (fraction * Double(scale)).rounded(.down)
        if scaled >= Double(scale) { scaled = 0; whole += 1; fraction = 0 }
        var t = time_t(whole)
        var tm = tm()
        gmtime_r(&t, &tm)
        var out = pad(Int(tm.tm_year) + 1900, 4) + "-" + pad(Int(tm.tm_mon) + 1, 2) + "-" + pad(Int(tm.tm_mday), 2)
        out += "T" + pad(Int(tm.tm_hour), 2) + ":" + pad(Int(tm.tm_min), 2) + ":" + pad(Int(tm.tm_sec), 2)
        if fractionDigits > 0 { out += "." + pad(Int(scaled), min(9, fractionDigits)) }
        return out + "Z"
    }

    /// The current time as seconds since 1970, with microseconds.
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1_000_000_000
    }

    /// Parses `YYYY-MM-DD[T ]HH:MM:SS[.fraction](Z|±HH:MM)`; nil when the text is not that.
    public static func parse<S: StringProtocol>(_ text: S) -> Double? {
        let b = Array(text.utf8)
        func digits(_ at: Int, _ n: Int) -> Int? {
            guard at + n <= b.count else { return nil }
            var v = 0
            for i in at..<(at + n) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard b.count >= 20,
              let year = digits(0, 4), b[4] == UInt8(ascii: "-"), let month = digits(5, 2), b[7] == UInt8(ascii: "-"),
              let day = digits(8, 2), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == UInt8(ascii: " "),
              let hour = digits(11, 2), b[13] == UInt8(ascii: ":"), let minute = digits(14, 2), b[16] == UInt8(ascii: ":"),
              let second = digits(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60
        else { return nil }
        var i = 19
        var fraction = 0.0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                fraction += Double(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        switch b[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            i += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard let oh = digits(i + 1, 2), i + 3 < b.count, b[i + 3] == UInt8(ascii: ":"), let om = digits(i + 4, 2) else { return nil }
            offset = (oh * 3600 + om * 60) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        default:
            return nil
        }
        guard i == b.count else { return nil }
        var tm = tm()
        tm.tm_year = Int32(year - 1900)
        tm.tm_mon = Int32(month - 1)
        tm.tm_mday = Int32(day)
        tm.tm_hour = Int32(hour)
        tm.tm_min = Int32(minute)
        tm.tm_sec = Int32(second)
        let t = timegm(&tm)
        return Double(t - time_t(offset)) + fraction
    }

    private static func pow10(_ n: Int) -> Int {
        var v = 1
        for _ in 0..<n { v *= 10 }
        return v
    }

    private static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
