/// Runs the checks in order, as edgelet's `Check::execute`: a `--dont-run` id is ignored
/// without running, and a fatal result stops every check after it.
public struct CheckRunner: Sendable {
    public var sections: [CheckSection]
    public var dontRun: Set<String>

    public init(sections: [CheckSection], dontRun: Set<String> = []) {
        self.sections = sections
        self.dontRun = dontRun
    }

    public var ids: [String] { sections.flatMap { $0.checks.map(\.id) } }

    /// The ids in `dontRun` that name no check, for a clear error before anything runs.
    public var unknownDontRun: [String] { dontRun.subtracting(ids).sorted() }

    /// `onResult` sees each result as it comes, so that text output streams.
    public func run(_ context: CheckContext, onResult: (CheckReport.Entry) -> Void = { _ in }) async -> CheckReport {
        var report = CheckReport(additionalInfo: context.additionalInfo)
        for section in sections {
            for check in section.checks {
                let result = dontRun.contains(check.id)
                    ? CheckResult.ignored("not run: --dont-run \(check.id)")
                    : await check.run(context)
                let entry = CheckReport.Entry(section: section.name, id: check.id, description: check.description, result: result)
                report.entries.append(entry)
                onResult(entry)
                if result.status == .fatal {
                    report.stoppedBy = check.id
                    break
                }
            }
            if report.stoppedBy != nil { break }
        }
        // Checks add what they learn (the daemon's version) to the run's information.
        report.additionalInfo = context.additionalInfo
        return report
    }
}
