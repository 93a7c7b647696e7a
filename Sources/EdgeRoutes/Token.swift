/// One token of a route's WHERE and INTO parts. `position` and `end` are offsets in Unicode
/// scalars; `text` is the token as written, for error messages.
struct Token {
    enum Kind: Equatable {
        /// A name: keyword, property or function; the parser decides which.
        case name(String)
        /// `$…`: the text after the dollar (`body.a[0]`, `contentType`, `upstream`).
        case dollar(String)
        case string(String)
        case number(Double)
        case symbol(String)
        case end
    }

    var kind: Kind
    var position: Int
    var end: Int
    var text: String

    /// Whether the token is the keyword `word` (upper case); keywords match in any case.
    func isKeyword(_ word: String) -> Bool {
        if case .name(let name) = kind { return name.uppercased() == word }
        return false
    }

    func isSymbol(_ symbol: String) -> Bool { kind == .symbol(symbol) }

    /// The token as an error message quotes it: `'whre'`, or "end of route".
    var quoted: String {
        if kind == .end { return "end of route" }
        let scalars = text.unicodeScalars
        if scalars.count <= 40 { return "'\(text)'" }
        var short = String.UnicodeScalarView()
        short.append(contentsOf: scalars.prefix(40))
        return "'\(String(short))…'"
    }
}
