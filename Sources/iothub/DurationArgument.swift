import ArgumentParser
import Foundation

/// A duration on the command line (`--since`, `--interval`, `--window`): a whole number and one
/// unit, `90s`, `5m`, `1h` or `2d`, the form the hub's query parameters take. Checked before any
/// request so that a typo is reported against its option instead of coming back as a 400.
struct DurationArgument: Equatable {
    let seconds: Int
    /// As the hub takes it, e.g. "5m".
    let text: String

    private static let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]

    static func parse(_ argument: String, option: String) throws -> DurationArgument {
        let text = argument.trimmingCharacters(in: .whitespaces).lowercased()
        guard let unit = text.last, let factor = units[unit], text.count > 1,
              text.dropLast().allSatisfy({ $0.isASCII && $0.isNumber }),
              let count = Int(text.dropLast()), count > 0,
              case let (seconds, overflow) = count.multipliedReportingOverflow(by: factor), !overflow
        else {
            throw ValidationError("\(option) must be a duration such as 90s, 5m, 1h or 2d (a whole number and s, m, h or d), not \"\(argument)\".")
        }
        return DurationArgument(seconds: seconds, text: text)
    }

    /// A length of time for people: "120 ms", "12.3 s", "1m 35s", "2h 05m", "3d 04h".
    static func describe(milliseconds ms: Double) -> String {
        if ms < 1000 { return "\(Int(ms.rounded())) ms" }
        let s = ms / 1000
        if s < 60 { return s < 10 ? "\((s * 10).rounded() / 10) s" : "\(Int(s.rounded())) s" }
        let total = Int(s.rounded())
        let (d, h, m, sec) = (total / 86400, total / 3600 % 24, total / 60 % 60, total % 60)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        if d > 0 { return "\(d)d \(two(h))h" }
        if h > 0 { return "\(h)h \(two(m))m" }
        return "\(m)m \(two(sec))s"
    }
}
