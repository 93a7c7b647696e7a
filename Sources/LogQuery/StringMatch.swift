/// How Kusto's string operators match. Case-insensitive matching compares lower-cased text;
/// `has` matches whole terms, where a term is a maximal run of letters and digits, so
/// "DeviceConnectionClosedRemotely: no packet" has "no" but not "Remote".
enum StringMatch: String, Sendable {
    case equal, has, contains, startswith, endswith, hasprefix, hassuffix

    func matches(_ text: String, _ pattern: String, caseSensitive: Bool) -> Bool {
        let hay = Array((caseSensitive ? text : text.lowercased()).unicodeScalars)
        let needle = Array((caseSensitive ? pattern : pattern.lowercased()).unicodeScalars)
        switch self {
        case .equal: return hay == needle
        case .startswith: return hay.starts(with: needle)
        case .endswith: return hay.reversed().starts(with: needle.reversed())
        case .contains: return Self.occurrence(of: needle, in: hay) { _ in true }
        case .has, .hasprefix, .hassuffix:
            if needle.isEmpty { return true }
            let openStart = !Self.isTermCharacter(needle[0])
            let openEnd = !Self.isTermCharacter(needle[needle.count - 1])
            return Self.occurrence(of: needle, in: hay) { start in
                let end = start + needle.count
                let startsTerm = openStart || start == 0 || !Self.isTermCharacter(hay[start - 1])
                let endsTerm = openEnd || end == hay.count || !Self.isTermCharacter(hay[end])
                switch self {
                case .hasprefix: return startsTerm
                case .hassuffix: return endsTerm
                default: return startsTerm && endsTerm
                }
            }
        }
    }

    /// Whether `needle` occurs in `hay` at a start that `accept` takes.
    private static func occurrence(of needle: [Unicode.Scalar], in hay: [Unicode.Scalar], where accept: (Int) -> Bool) -> Bool {
        guard needle.count <= hay.count else { return false }
        if needle.isEmpty { return true }
        for start in 0...(hay.count - needle.count) where hay[start] == needle[0] {
            if hay[start..<(start + needle.count)].elementsEqual(needle), accept(start) { return true }
        }
        return false
    }

    /// Where `needle` first occurs in `hay` (an index of `hay`), or nil.
    static func firstIndex(of needle: [Unicode.Scalar], in hay: ArraySlice<Unicode.Scalar>) -> Int? {
        guard needle.count <= hay.count else { return nil }
        if needle.isEmpty { return hay.startIndex }
        for start in hay.startIndex...(hay.endIndex - needle.count) where hay[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }

    static func isTermCharacter(_ s: Unicode.Scalar) -> Bool {
        s.properties.isAlphabetic || ("0"..."9").contains(s)
    }
}
