import EdgeDaemon

/// The config file as the checks see it. The daemon refuses a bad hostname like any other
/// error, but edgelet reports it under its own `hostname` check: so when the hostname is the
/// only problem, the rest of the file is read again without it and the other checks still run.
public enum ConfigState: Sendable {
    case loaded(EdgeConfig)
    /// Everything but the hostname is good; `config.hostname` is a stand-in ("localhost").
    case badHostname(EdgeConfig, ConfigError)
    /// The file is missing or unreadable.
    case unreadable(ConfigError)
    case invalid(ConfigError)

    public var config: EdgeConfig? {
        switch self {
        case .loaded(let c), .badHostname(let c, _): return c
        case .unreadable, .invalid: return nil
        }
    }

    public var error: ConfigError? {
        switch self {
        case .loaded: return nil
        case .badHostname(_, let e), .unreadable(let e), .invalid(let e): return e
        }
    }

    public static func load(path: String) -> ConfigState {
        guard let text = FileIO.readText(path) else {
            do { _ = try EdgeConfig.load(path: path) } catch { return .unreadable(error) }
            return .unreadable(ConfigError(file: path, message: "cannot read the config file", fix: "Make it readable."))
        }
        do {
            return .loaded(try EdgeConfig.parse(text, file: path))
        } catch {
            guard isHostnameError(error), let rest = try? EdgeConfig.parse(withoutLine(error.line, of: text), file: path, systemHostname: "localhost") else {
                return .invalid(error)
            }
            return .badHostname(rest, error)
        }
    }

    static func isHostnameError(_ e: ConfigError) -> Bool {
        e.message.hasPrefix(ConfigError.invalidHostnameMessage) || e.message.hasPrefix("invalid hostname:")
    }

    /// The text with 1-based `line` commented out (the hostname's); nil leaves it whole, for a
    /// hostname that came from the machine rather than the file.
    static func withoutLine(_ line: Int?, of text: String) -> String {
        guard let line else { return text }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard line >= 1, line <= lines.count else { return text }
        lines[line - 1] = "# " + lines[line - 1]
        return lines.joined(separator: "\n")
    }
}
