import Twin

extension Query {
    /// Runs the query over twin documents, in their order (device and module twins may be
    /// mixed: the source picks one kind, see `selects`). Returns the twins themselves for `SELECT *`,
    /// one object per twin for a projection, and one object per group for COUNT() or GROUP BY.
    public func evaluate(_ documents: [JSONValue]) -> [JSONValue] {
        let matching = documents.lazy.filter { self.selects($0) }
        let limit = top ?? Int.max
        switch selection {
        case .all:
            return Array(matching.prefix(limit))
        case .items(let items) where !isAggregate:
            return matching.prefix(limit).map { project($0, items) }
        case .items(let items):
            return Array(groups(Array(matching), items).prefix(limit))
        }
    }

    /// Whether a twin belongs to the source and the condition is true for it (false and
    /// undefined both leave it out). A module twin has a non-empty `moduleId`; a device twin's
    /// is missing, null or empty.
    public func selects(_ document: JSONValue) -> Bool {
        let isModule = !(document["moduleId"]?.stringValue ?? "").isEmpty
        guard isModule == (source == .modules) else { return false }
        return condition.map { $0.value(in: document, source: source) == .bool(true) } ?? true
    }

    /// The selected fields a twin has, under their aliases or the keys they were found under.
    private func project(_ document: JSONValue, _ items: [SelectItem]) -> JSONValue {
        var row: [String: JSONValue] = [:]
        for case .field(let path, let alias) in items {
            if let (key, value) = path.lookup(in: document, source: source) { row[alias ?? key] = value }
        }
        return .object(row)
    }

    /// One row per distinct combination of the GROUP BY values (a single row, even for no
    /// twins, without GROUP BY), holding the grouped values that are defined and the counts.
    /// Rows are ordered by the JSON text of their grouped values, undefined first.
    private func groups(_ documents: [JSONValue], _ items: [SelectItem]) -> [JSONValue] {
        var counts: [[JSONValue?]: Int] = groupBy.isEmpty ? [[]: 0] : [:]
        for document in documents {
            counts[groupBy.map { $0.lookup(in: document, source: source)?.value }, default: 0] += 1
        }
        let names = groupBy.map { path in
            items.lazy.compactMap { item -> String? in
                guard case .field(let selected, let alias?) = item, selected.sameProperty(as: path, in: self.source) else { return nil }
                return alias
            }.first ?? path.keys(in: source).last ?? ""
        }
        let sortKeys = counts.keys.map { key in (key, key.map { $0?.jsonText ?? "" }) }
        return sortKeys.sorted { $0.1.lexicographicallyPrecedes($1.1) }.map { key, _ in
            var row: [String: JSONValue] = [:]
            for (name, value) in zip(names, key) where value != nil { row[name] = value }
            var unnamed = 0
            for case .count(let alias) in items {
                if alias == nil { unnamed += 1 }
                row[alias ?? "$\(unnamed)"] = .number(Double(counts[key]!))
            }
            return .object(row)
        }
    }
}
