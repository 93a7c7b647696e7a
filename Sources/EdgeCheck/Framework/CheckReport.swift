import Twin

/// What a run of the checks found: the counts of the summary, the exit status, and the JSON
/// of `--output json` (edgelet's `CheckResultsSerializable`).
public struct CheckReport: Sendable {
    public struct Entry: Sendable {
        public var section: String
        public var id: String
        public var description: String
        public var result: CheckResult
    }

    public var additionalInfo: [String: JSONValue]
    public var entries: [Entry] = []
    /// The fatal check after which nothing ran.
    public var stoppedBy: String?

    public init(additionalInfo: [String: JSONValue] = [:]) { self.additionalInfo = additionalInfo }

    public func count(_ statuses: CheckStatus...) -> Int {
        entries.filter { statuses.contains($0.result.status) }.count
    }

    public var succeeded: Int { count(.ok) }
    public var warnings: Int { count(.warning) }
    public var errors: Int { count(.failed, .fatal) }
    public var skipped: Int { count(.skipped) }

    /// iotedge exits 1 when a check failed, or warned under `--warnings-as-errors`.
    public func exitCode(warningsAsErrors: Bool) -> Int32 {
        if errors > 0 { return 1 }
        if warningsAsErrors, warnings > 0 { return 1 }
        return 0
    }

    /// `{"additional_info":{…},"checks":{"<id>":{"result":…,"details":[…],"additional_info":{…}}}}`.
    public var json: JSONValue {
        var checks: [String: JSONValue] = [:]
        for e in entries {
            checks[e.id] = .object([
                "result": .string(e.result.status.jsonName),
                "details": .array(e.result.details.map(JSONValue.string)),
                "additional_info": .object(e.result.additionalInfo),
            ])
        }
        return .object(["additional_info": .object(additionalInfo), "checks": .object(checks)])
    }
}
