import ArgumentParser
import Foundation

/// Where the hub sends something, as typed on the command line: an alert's `--action`
/// (`webhook:URL`, `exec:COMMAND`, `log`) and a log category's `--sink` (`file:/PATH`,
/// `webhook:URL`, `none`). Checked before any request, with the accepted forms in the message.
enum ActionArgument {
    /// `--action`, as the hub takes it.
    static func action(_ text: String, option: String = "--action") throws -> String {
        if text.lowercased() == "log" { return "log" }
        if let url = value(text, after: "webhook:") {
            try checkWebURL(url, option: option, given: text)
            return "webhook:" + url
        }
        if let command = value(text, after: "exec:") {
            guard !command.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ValidationError("\(option) exec: needs a command, e.g. 'exec:/usr/local/bin/page-oncall'.")
            }
            return "exec:" + command
        }
        throw ValidationError("""
            \(option) must be webhook:URL, exec:COMMAND or log, not "\(text)" \
            (e.g. --action webhook:https://example.com/hook --action log).
            """)
    }

    /// `--sink`, as the hub takes it: the sink's text, or NSNull for `none` (removes it).
    static func sink(_ text: String, option: String = "--sink") throws -> Any {
        if text.lowercased() == "none" { return NSNull() }
        if var path = value(text, after: "file:") {
            // file:///var/log/x is the URL spelling of file:/var/log/x.
            if path.hasPrefix("///") { path.removeFirst(2) }
            guard path.hasPrefix("/"), path.count > 1 else {
                throw ValidationError("\(option) file: needs an absolute path (the hub's working directory is not yours), e.g. file:/var/log/outpost/connections.log, not \"\(text)\".")
            }
            return "file:" + path
        }
        if let url = value(text, after: "webhook:") {
            try checkWebURL(url, option: option, given: text)
            return "webhook:" + url
        }
        throw ValidationError("""
            \(option) must be file:/absolute/path, webhook:https://… or none, not "\(text)".
            """)
    }

    /// The text after a case-insensitive `prefix`, or nil when it does not start with it.
    private static func value(_ text: String, after prefix: String) -> String? {
        guard text.lowercased().hasPrefix(prefix) else { return nil }
        return String(text.dropFirst(prefix.count))
    }

    private static func checkWebURL(_ text: String, option: String, given: String) throws {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
        else {
            throw ValidationError("\(option) webhook: needs an http:// or https:// URL with a host, e.g. webhook:https://example.com/hook, not \"\(given)\".")
        }
    }
}
