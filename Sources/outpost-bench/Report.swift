import BenchHistogram
import Foundation

/// The figures of one scenario run, in the order they are printed: text for people, one JSON
/// object (`--json`) for bench/run.
struct Report {
    enum Value {
        case int(Int)
        case number(Double, digits: Int)
        case text(String)

        var json: String {
            switch self {
            case .int(let n): "\(n)"
            case .number(let d, let digits): d.isFinite ? String(format: "%.\(digits)f", d) : "null"
            case .text(let s): Report.quote(s)
            }
        }

        var text: String {
            switch self {
            case .int(let n): "\(n)"
            case .number(let d, let digits): String(format: "%.\(digits)f", d)
            case .text(let s): s
            }
        }
    }

    var scenario: String
    var target: String
    private(set) var fields: [(String, Value, String)] = []

    init(scenario: String, target: String) {
        self.scenario = scenario
        self.target = target
    }

    mutating func add(_ key: String, _ value: Int, _ unit: String = "") { fields.append((key, .int(value), unit)) }
    mutating func add(_ key: String, _ value: Double, digits: Int = 1, _ unit: String = "") { fields.append((key, .number(value, digits: digits), unit)) }
    mutating func add(_ key: String, _ value: String) { fields.append((key, .text(value), "")) }

    /// p50/p90/p99/max of a histogram of microseconds, in milliseconds.
    mutating func addLatency(_ key: String, _ h: LogLinearHistogram) {
        guard h.count > 0 else { return }
        for (name, p) in [("p50", 50.0), ("p90", 90), ("p99", 99)] {
            add("\(key)_\(name)_ms", Double(h.value(atPercentile: p)) / 1000, digits: 3, "ms")
        }
        add("\(key)_max_ms", Double(h.max) / 1000, digits: 3, "ms")
    }

    mutating func addMemory(_ key: String, _ m: ServerMemory?) {
        guard let m else { return }
        add("\(key)_rss_kib", m.rssKiB, "KiB")
        add("\(key)_pss_kib", m.pssKiB, "KiB")
    }

    mutating func addErrors(_ errors: [String: Int]) {
        add("errors", errors.values.reduce(0, +))
        if !errors.isEmpty {
            add("error_kinds", errors.sorted { $0.value > $1.value }.prefix(5).map { "\($0.key) ×\($0.value)" }.joined(separator: "; "))
        }
    }

    func render(json: Bool) -> String {
        if json {
            let body = [("scenario", Value.text(scenario)), ("target", .text(target))] + fields.map { ($0.0, $0.1) }
            return "{" + body.map { "\(Report.quote($0.0)): \($0.1.json)" }.joined(separator: ", ") + "}"
        }
        let width = fields.map(\.0.count).max() ?? 0
        var lines = ["\(scenario) against \(target)"]
        for (key, value, unit) in fields {
            lines.append("  " + key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value.text + (unit.isEmpty ? "" : " \(unit)"))
        }
        return lines.joined(separator: "\n")
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

/// A one-line progress display, redrawn once a second, only when stdout is a terminal.
final class Progress: @unchecked Sendable {
    private var task: Task<Void, Never>?
    let enabled: Bool

    init(json: Bool) { enabled = !json && isatty(STDOUT_FILENO) == 1 }

    func start(_ line: @escaping @Sendable (Double) -> String) {
        guard enabled else { return }
        let started = Date()
        task = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                let text = line(Date().timeIntervalSince(started))
                FileHandle.standardOutput.write(Data("\r\u{1B}[K\(text)".utf8))
            }
        }
    }

    func stop() {
        task?.cancel()
        task = nil
        if enabled { FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8)) }
    }
}
