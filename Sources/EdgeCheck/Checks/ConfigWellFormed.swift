/// `config-toml-well-formed`: the daemon's config.toml can be read and parsed, with the
/// loader's own error (file, line, the line's text, and what to change) when it cannot.
public struct ConfigWellFormed: Checker {
    public let id = "config-toml-well-formed"
    public let description = "config.toml is well-formed"
    public let fix = "Correct the line the error names, then run: sudo iotedge config apply"

    public init() {}

    public func run(_ context: CheckContext) async -> CheckResult {
        switch context.configState {
        case .loaded(let config):
            return .ok("\(config.file): device \(config.provisioning.deviceID), data in \(config.homeDirectory)",
                       info: ["file": .string(config.file)])
        case .badHostname(_, let error):
            let at = error.line.map { "\(error.file):\($0)" } ?? error.file
            return .failed("\(at): the hostname is invalid (the hostname check says why); the rest of the file is well-formed and is checked below.",
                           fix: error.fix)
        case .unreadable(let error):
            // Nothing else can be checked without it.
            return CheckResult(.fatal, ["\(error)"])
        case .invalid(let error):
            return CheckResult(.failed, ["\(error)"])
        }
    }
}
