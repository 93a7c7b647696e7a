import ArgumentParser

/// A failure the user can act on: printed as "error: …" and exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    /// When the hub refused the request: its HTTP status and its message without the
    /// "ErrorCode:Name;" prefix, for a command that shows the message exactly as written (a KQL
    /// syntax error's caret line must stay under the query line).
    var status: UInt?
    var hubMessage: String?

    init(_ description: String, status: UInt? = nil, hubMessage: String? = nil) {
        self.description = description
        self.status = status
        self.hubMessage = hubMessage
    }
}
