import Twin

/// How a check came out, as edgelet's `CheckResult` (`iotedge/src/check/shared.rs`).
public enum CheckStatus: String, Sendable, CaseIterable {
    /// It passed.
    case ok
    /// It passed with advice; an error only under `--warnings-as-errors`.
    case warning
    /// It does not apply here, or `--dont-run` named it; counts as passing.
    case ignored
    /// It could not run because something it needs failed (reported by another check).
    case skipped
    /// It failed; the remaining checks still run.
    case failed
    /// It failed so that the remaining checks cannot mean anything; they are not run.
    case fatal

    /// The `result` of `--output json`: edgelet serialises a failure as "error".
    public var jsonName: String { self == .failed ? "error" : rawValue }
}

/// A check's outcome: its status, the lines that say what is wrong and how to fix it (or, for
/// a pass, what was measured), and the measured values for `--output json`.
public struct CheckResult: Sendable, Equatable {
    public var status: CheckStatus
    public var details: [String]
    public var additionalInfo: [String: JSONValue]

    public init(_ status: CheckStatus, _ details: [String] = [], info: [String: JSONValue] = [:]) {
        self.status = status
        self.details = details
        self.additionalInfo = info
    }

    public static func ok(_ details: String..., info: [String: JSONValue] = [:]) -> CheckResult {
        CheckResult(.ok, details, info: info)
    }

    /// `problem` says what is wrong, `fix` what to do about it.
    public static func warning(_ problem: String, fix: String, info: [String: JSONValue] = [:]) -> CheckResult {
        CheckResult(.warning, [problem, "Fix: \(fix)"], info: info)
    }

    public static func failed(_ problem: String, fix: String, info: [String: JSONValue] = [:]) -> CheckResult {
        CheckResult(.failed, [problem, "Fix: \(fix)"], info: info)
    }

    public static func fatal(_ problem: String, fix: String, info: [String: JSONValue] = [:]) -> CheckResult {
        CheckResult(.fatal, [problem, "Fix: \(fix)"], info: info)
    }

    /// Not run because `reason` (another check's failure, which that check reports).
    public static func skipped(_ reason: String) -> CheckResult { CheckResult(.skipped, [reason]) }

    public static func ignored(_ reason: String) -> CheckResult { CheckResult(.ignored, [reason]) }
}
