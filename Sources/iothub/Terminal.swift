import Foundation

/// Where stdout goes decides the presentation: colour, charts and cut cells are for a person at
/// a terminal; a pipe or a file gets every character, unstyled.
enum Terminal {
    static let isStdout = isatty(STDOUT_FILENO) != 0

    /// The terminal's columns, or nil when stdout is not a terminal (then nothing is cut).
    static var width: Int? {
        guard isStdout else { return nil }
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init) ?? 80
    }

    /// Prose (root causes, findings) wraps at the terminal's width, else at 100 columns so that a
    /// saved report stays readable.
    static var textWidth: Int { width ?? 100 }

    /// The SGR colour of a log level: errors red, warnings yellow, the rest plain.
    static func levelColour(_ level: String) -> String? {
        switch level {
        case "Error", "Critical": "31"
        case "Warning": "33"
        default: nil
        }
    }
}
