/// The columns of the table an operator reads, looked up by name. Names are unique (input
/// tables are normalised with `ColumnNames`).
struct Schema {
    let columns: [LogColumn]
    private let indexByName: [String: Int]

    init(_ columns: [LogColumn]) {
        self.columns = columns
        var index: [String: Int] = [:]
        for (i, column) in columns.enumerated() where index[column.name] == nil { index[column.name] = i }
        indexByName = index
    }

    func index(of name: String) -> Int? { indexByName[name] }

    /// The column called `name`, or an error at `position` that suggests a near name.
    func column(_ name: String, at position: Int) throws(LogQueryError) -> (index: Int, type: LogType) {
        if let i = indexByName[name] { return (i, columns[i].type) }
        var message = "unknown column '\(name)'"
        if let near = nearestName(to: name) { message += "; did you mean '\(near)'?" }
        throw LogQueryError(.unknownColumn, at: position, message)
    }

    /// A column whose name differs only in case, or by one edit (two in names over five letters).
    private func nearestName(to name: String) -> String? {
        if let same = columns.first(where: { $0.name.lowercased() == name.lowercased() }) { return same.name }
        let target = Array(name.lowercased())
        let scored = columns.map { ($0.name, Self.editDistance(Array($0.name.lowercased()), target)) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= (target.count > 5 ? 2 : 1), best.1 < target.count else { return nil }
        return best.0
    }

    /// Levenshtein distance, computed only for short names of similar length (else 3).
    private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if abs(a.count - b.count) > 2 || a.count > 64 || b.count > 64 { return 3 }
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// Hands out unique column names as Kusto does: a taken name gets a number, `count_1`.
struct ColumnNames {
    private var taken: Set<String> = []

    init(taken names: [String] = []) { taken = Set(names) }

    func isTaken(_ name: String) -> Bool { taken.contains(name) }

    mutating func claim(_ name: String) -> String {
        var unique = name
        var n = 1
        while taken.contains(unique) {
            unique = name + String(n)
            n += 1
        }
        taken.insert(unique)
        return unique
    }

    /// `Column1`, `Column2`, …: the first free one, for an unnamed computed column.
    mutating func claimNumbered(_ prefix: String = "Column", from start: Int = 1) -> String {
        var n = start
        while taken.contains(prefix + String(n)) { n += 1 }
        return claim(prefix + String(n))
    }
}

extension ColumnNames {
    /// An explicit name must be new; a derived one is made unique; else `Column1`, ….
    mutating func claim(_ item: NamedExpression, kind: String) throws(LogQueryError) -> String {
        if let name = item.name {
            guard !isTaken(name.text) else {
                throw LogQueryError(.type, at: name.position, "column '\(name.text)' is named twice in \(kind)")
            }
            return claim(name.text)
        }
        if let derived = item.expression.derivedName { return claim(derived) }
        return claimNumbered()
    }
}

extension LogExpression {
    /// The column name of an unnamed expression, as Kusto derives it: a column's own name, the
    /// column inside a conversion or `bin()`, `base_key` for a member; nil otherwise.
    var derivedName: String? {
        switch self {
        case .column(let name, _):
            return name
        case .call(let function, let arguments, _):
            let keepsName: [LogFunction] = [.bin, .tostring, .toint, .tolong, .todouble, .tobool, .todatetime, .totimespan, .tolower, .toupper]
            return keepsName.contains(function) ? arguments.first?.derivedName : nil
        case .member(let base, let key, _):
            return base.derivedName.map { $0 + "_" + key } ?? key
        default:
            return nil
        }
    }
}
