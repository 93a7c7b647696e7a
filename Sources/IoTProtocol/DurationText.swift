import Foundation

/// Durations as people and Azure write them: `90`, `90s`, `5m`, `1h`, `2d`, `250ms`, and ISO
/// 8601 (`PT5M`, `PT1H30M`, `P1D`), as metric windows are written in Azure Monitor.
public enum DurationText {
    /// Seconds, or nil when the text is not a duration.
    public static func seconds(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !t.isEmpty else { return nil }
        if t.hasPrefix("p") { return iso(t) }
        let units: [(String, Double)] = [("ms", 0.001), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            guard let n = Double(t.dropLast(suffix.count)), n >= 0, n.isFinite else { return nil }
            return n * factor
        }
        guard let n = Double(t), n >= 0, n.isFinite else { return nil }
        return n
    }

    /// `PT5M`-style text for a number of seconds.
    public static func iso(seconds: Double) -> String {
        var rest = Int(seconds.rounded())
        if rest == 0 { return "PT0S" }
        var out = "P"
        if rest >= 86_400 { out += "\(rest / 86_400)D"; rest %= 86_400 }
        guard rest > 0 else { return out }
        out += "T"
        if rest >= 3600 { out += "\(rest / 3600)H"; rest %= 3600 }
        if rest >= 60 { out += "\(rest / 60)M"; rest %= 60 }
        if rest > 0 { out += "\(rest)S" }
        return out
    }

    private static func iso(_ t: String) -> Double? {
        var total = 0.0, number = "", inTime = false, parts = 0
        for ch in t.dropFirst() {
            switch ch {
            case "t": inTime = true
            case "0"..."9", ".": number.append(ch)
            default:
                guard let n = Double(number) else { return nil }
                number = ""
                parts += 1
                switch (ch, inTime) {
                case ("d", false): total += n * 86_400
                case ("w", false): total += n * 604_800
                case ("h", true): total += n * 3600
                case ("m", true): total += n * 60
                case ("s", true): total += n
                default: return nil
                }
            }
        }
        return number.isEmpty && parts > 0 ? total : nil
    }
}
