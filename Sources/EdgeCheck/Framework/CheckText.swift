/// The text output of `iotedge check`, edgelet's: a heading per section, "✓ description - OK",
/// "‼ description - Warning" or "× description - Error" with the details indented under it,
/// then the summary counts. Colour only when `colour` (a terminal).
public struct CheckText: Sendable {
    public var verbose: Bool
    public var colour: Bool

    public init(verbose: Bool, colour: Bool) {
        self.verbose = verbose
        self.colour = colour
    }

    public func heading(_ section: String) -> String { "\(section)\n" + String(repeating: "-", count: section.count) }

    /// The lines for one result; nil when nothing is printed for it (ignored checks, and
    /// skipped ones unless verbose, as edgelet).
    public func render(_ entry: CheckReport.Entry) -> String? {
        let r = entry.result
        var head: String, paint: String
        switch r.status {
        case .ok: head = "\u{2713} \(entry.description) - OK"; paint = "32"
        case .warning: head = "\u{203C} \(entry.description) - Warning"; paint = "33"
        case .failed, .fatal: head = "\u{00D7} \(entry.description) - Error"; paint = "31"
        case .skipped:
            guard verbose else { return nil }
            head = "\u{203C} \(entry.description) - Skipped"; paint = "33"
        case .ignored:
            guard verbose else { return nil }
            head = "- \(entry.description) - Ignored"; paint = "0"
        }
        if verbose { head += " [\(entry.id)]" }
        // An ok result's details are measurements: shown with --verbose only.
        let shown = r.status == .ok && !verbose ? [] : r.details
        let body = shown.flatMap { $0.split(separator: "\n", omittingEmptySubsequences: false) }.map { "    " + $0 }
        return ([colour ? "\u{1B}[\(paint)m\(head)\u{1B}[0m" : head] + body).joined(separator: "\n")
    }

    public func summary(_ report: CheckReport) -> String {
        let more = verbose ? "" : " Re-run with --verbose for more details."
        var lines = [paint("\(report.succeeded) check(s) succeeded.", "32")]
        if report.warnings > 0 { lines.append(paint("\(report.warnings) check(s) raised warnings.\(more)", "33")) }
        if report.errors > 0 { lines.append(paint("\(report.errors) check(s) raised errors.\(more)", "31")) }
        if report.skipped > 0 {
            lines.append(paint("\(report.skipped) check(s) were skipped due to errors from other checks.\(more)", "33"))
        }
        if let stop = report.stoppedBy { lines.append(paint("Stopped after \(stop): the remaining checks were not run.", "31")) }
        return lines.joined(separator: "\n")
    }

    private func paint(_ text: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
}
