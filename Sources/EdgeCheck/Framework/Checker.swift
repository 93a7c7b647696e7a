/// One check of `iotedge check`, one per file as edgelet's `Checker`: a kebab-case id that
/// `--dont-run` and the JSON output use, a one-line description, the general way to fix what
/// it finds (its results give the specific one), and the check itself.
public protocol Checker: Sendable {
    var id: String { get }
    var description: String { get }
    var fix: String { get }
    func run(_ context: CheckContext) async -> CheckResult
}

/// A heading of the text output, with its checks in the order they run.
public struct CheckSection: Sendable {
    public var name: String
    public var checks: [any Checker]

    public init(_ name: String, _ checks: [any Checker]) {
        self.name = name
        self.checks = checks
    }
}
