import Twin

/// A dotted path into a twin document as written: `tags.location.region`,
/// `properties.reported['my-key']`, or with the collection prefix, `devices.tags.x`.
public struct FieldPath: Hashable, Sendable {
    public var segments: [String]

    public init(_ segments: [String]) { self.segments = segments }

    /// The keys into the document: the segments without a leading `devices` (or
    /// `devices.modules` in a module query), which names the collection, not a property.
    public func keys(in source: Query.Source) -> ArraySlice<String> {
        var keys = segments[...]
        if keys.count > 1, keys.first!.lowercased() == "devices" {
            keys = keys.dropFirst()
            if source == .modules, keys.count > 1, keys.first!.lowercased() == "modules" { keys = keys.dropFirst() }
        }
        return keys
    }

    /// The value at this path and the key it was found under. Keys match exactly or, failing
    /// that, case-insensitively (IoT Hub answers `SELECT DeviceId` with `deviceId`); among
    /// several case-insensitive matches the smallest key wins, so the choice is stable.
    public func lookup(in document: JSONValue, source: Query.Source) -> (key: String, value: JSONValue)? {
        let keys = keys(in: source)
        guard !keys.isEmpty else { return nil }
        var current = document
        var foundKey = ""
        for key in keys {
            guard case .object(let object) = current else { return nil }
            if let next = object[key] {
                current = next
                foundKey = key
            } else {
                let lowered = key.lowercased()
                guard let match = object.keys.filter({ $0.lowercased() == lowered }).min() else { return nil }
                current = object[match]!
                foundKey = match
            }
        }
        return (foundKey, current)
    }

    /// Whether two paths name the same property of twins in `source`.
    func sameProperty(as other: FieldPath, in source: Query.Source) -> Bool {
        keys(in: source).map { $0.lowercased() } == other.keys(in: source).map { $0.lowercased() }
    }
}
