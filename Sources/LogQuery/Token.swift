/// One token of query text. `position` and `end` are offsets in Unicode scalars; `text` is the
/// token as written, for error messages.
struct Token {
    enum Kind: Equatable {
        /// A name: keyword, operator word (`has`, `!contains`, `in~`), function or column; the
        /// parser decides which.
        case identifier(String)
        case string(String)
        case long(Int64)
        case real(Double)
        case timespan(ticks: Int64)
        /// `datetime(…)`; nil for `datetime(null)`.
        case datetime(ticks: Int64?)
        case symbol(String)
        case end
    }

    var kind: Kind
    var position: Int
    var end: Int
    var text: String

    var identifier: String? {
        if case .identifier(let name) = kind { return name }
        return nil
    }

    /// Whether the token is the keyword `word`; keywords are matched in any case.
    func isWord(_ word: String) -> Bool { identifier?.lowercased() == word }

    func isSymbol(_ symbol: String) -> Bool { kind == .symbol(symbol) }

    /// The token as an error message quotes it: `'whre'`, or "end of query".
    var quoted: String {
        if kind == .end { return "end of query" }
        let scalars = text.unicodeScalars
        if scalars.count <= 40 { return "'\(text)'" }
        var short = String.UnicodeScalarView()
        short.append(contentsOf: scalars.prefix(40))
        return "'\(String(short))…'"
    }
}
