import Foundation

/// Everything a twin holds beyond the registry entry: tags, desired and reported properties,
/// and the twin's version. The twin's ETag is derived from the version, as IoT Hub does, so it
/// changes exactly when the twin does.
public struct TwinState: Codable, Sendable, Equatable {
    public var tags: [String: JSONValue]
    public var desired: TwinSection
    public var reported: TwinSection
    /// Incremented by every change to tags, desired or reported properties.
    public var version: Int

    public init(tags: [String: JSONValue] = [:], desired: TwinSection = TwinSection(),
                reported: TwinSection = TwinSection(), version: Int = 1) {
        self.tags = tags
        self.desired = desired
        self.reported = reported
        self.version = version
    }

    /// `"AAAAAAAAAAE="`-style: base64 of the version as 8 big-endian bytes.
    public var etag: String {
        withUnsafeBytes(of: UInt64(version).bigEndian) { Data($0).base64EncodedString() }
    }

    /// What a device's twin GET returns: both sections with `$version`, without metadata.
    public var deviceView: JSONValue {
        .object(["desired": desired.json(metadata: false), "reported": reported.json(metadata: false)])
    }

    // MARK: changes

    /// Merges a desired-properties patch; returns what to push to the device (the patch as
    /// given, nulls included, with the new `$version`), or nil when nothing changed.
    public mutating func patchDesired(_ patch: [String: JSONValue], at time: Date) throws -> JSONValue? {
        let patch = try TwinRules.writablePatch(patch, section: "desired")
        guard !patch.isEmpty else { return nil }
        var next = desired
        next.merge(patch, at: time, trackVersion: true)
        try TwinRules.check(next.values, section: "desired")
        desired = next
        version += 1
        return Self.notification(patch, version: desired.version)
    }

    /// Replaces all desired properties; the push names removed properties with null so that a
    /// device holding the old set converges.
    public mutating func replaceDesired(_ values: [String: JSONValue], at time: Date) throws -> JSONValue {
        let values = try TwinRules.writablePatch(values, section: "desired")
        var patch = values
        for key in desired.values.keys where values[key] == nil { patch[key] = .null }
        var next = TwinSection(version: desired.version)
        next.merge(values, at: time, trackVersion: true)
        try TwinRules.check(next.values, section: "desired")
        desired = next
        version += 1
        return Self.notification(patch, version: desired.version)
    }

    /// Merges a reported-properties patch from the device; returns the new reported `$version`.
    @discardableResult
    public mutating func patchReported(_ patch: [String: JSONValue], at time: Date) throws -> Int {
        let patch = try TwinRules.writablePatch(patch, section: "reported")
        var next = reported
        next.merge(patch, at: time, trackVersion: false)
        try TwinRules.check(next.values, section: "reported")
        reported = next
        version += 1
        return reported.version
    }

    public mutating func patchTags(_ patch: [String: JSONValue]) throws {
        let patch = try TwinRules.writablePatch(patch, section: "tags")
        guard !patch.isEmpty else { return }
        let merged = TwinSection.merged(tags, patch)
        try TwinRules.check(merged, section: "tags")
        tags = merged
        version += 1
    }

    public mutating func replaceTags(_ values: [String: JSONValue]) throws {
        let values = try TwinRules.writablePatch(values, section: "tags")
        let replaced = TwinSection.merged([:], values)
        try TwinRules.check(replaced, section: "tags")
        guard replaced != tags else { return }
        tags = replaced
        version += 1
    }

    private static func notification(_ patch: [String: JSONValue], version: Int) -> JSONValue {
        var body = patch
        body["$version"] = .number(Double(version))
        return .object(body)
    }
}

/// Desired or reported properties: values, their `$metadata` tree and the section `$version`.
public struct TwinSection: Codable, Sendable, Equatable {
    public var values: [String: JSONValue]
    /// Mirrors `values`: every object level carries `$lastUpdated` (and, for desired,
    /// `$lastUpdatedVersion`); a leaf's entry holds only those keys.
    public var metadata: [String: JSONValue]
    /// Starts at 1 for a new twin and grows by one with every patch.
    public var version: Int

    public init(values: [String: JSONValue] = [:], metadata: [String: JSONValue] = [:], version: Int = 1) {
        self.values = values
        self.metadata = metadata
        self.version = version
    }

    /// The section as the service sees it (`properties.desired`), or as a device GET sees it.
    public func json(metadata includeMetadata: Bool) -> JSONValue {
        var body = values
        if includeMetadata { body["$metadata"] = .object(metadata) }
        body["$version"] = .number(Double(version))
        return .object(body)
    }

    mutating func merge(_ patch: [String: JSONValue], at time: Date, trackVersion: Bool) {
        version += 1
        var stamp: [String: JSONValue] = ["$lastUpdated": .string(TwinTime.format(time))]
        if trackVersion { stamp["$lastUpdatedVersion"] = .number(Double(version)) }
        Self.apply(patch, to: &values, metadata: &metadata, stamp: stamp)
    }

    /// RFC 7396-style merge: null removes, objects merge, anything else replaces.
    static func merged(_ base: [String: JSONValue], _ patch: [String: JSONValue]) -> [String: JSONValue] {
        var values = base, metadata: [String: JSONValue] = [:]
        apply(patch, to: &values, metadata: &metadata, stamp: [:])
        return values
    }

    private static func apply(_ patch: [String: JSONValue], to values: inout [String: JSONValue],
                              metadata: inout [String: JSONValue], stamp: [String: JSONValue]) {
        for (key, value) in stamp { metadata[key] = value }
        for (key, value) in patch {
            switch value {
            case .null:
                values[key] = nil
                metadata[key] = nil
            case .object(let inner):
                var child = values[key]?.objectValue ?? [:]
                var childMeta = (values[key]?.objectValue != nil ? metadata[key]?.objectValue : nil) ?? [:]
                apply(inner, to: &child, metadata: &childMeta, stamp: stamp)
                values[key] = .object(child)
                metadata[key] = .object(childMeta)
            default:
                values[key] = value
                metadata[key] = .object(stamp)
            }
        }
    }
}

/// IoT Hub's twin limits and key rules, with errors that say what to change.
public enum TwinRules {
    /// Desired and reported properties are each limited to 32 KiB; tags to 8 KiB.
    public static func maxBytes(section: String) -> Int { section == "tags" ? 8 * 1024 : 32 * 1024 }
    /// Properties may nest at most 10 levels: `{"a":1}` is one level, `{"a":{"b":1}}` two.
    public static let maxDepth = 10

    public struct Violation: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    /// Drops the read-only `$version` and `$metadata` a client may echo back; refuses other keys
    /// IoT Hub does not allow.
    static func writablePatch(_ patch: [String: JSONValue], section: String) throws -> [String: JSONValue] {
        var result = patch
        result["$version"] = nil
        result["$metadata"] = nil
        try checkKeys(result, path: section)
        return result
    }

    static func check(_ values: [String: JSONValue], section: String) throws {
        let depth = JSONValue.object(values).depth
        if depth > maxDepth {
            throw Violation(description: "\(section) is nested \(depth) levels deep; a twin allows at most \(maxDepth) levels")
        }
        let size = JSONValue.object(values).jsonText.utf8.count
        let limit = maxBytes(section: section)
        if size > limit {
            throw Violation(description: "\(section) would be \(size) bytes; a twin allows at most \(limit) bytes of \(section) (remove properties or shorten values)")
        }
    }

    private static func checkKeys(_ object: [String: JSONValue], path: String) throws {
        for (key, value) in object {
            if key.isEmpty || key.contains(".") || key.contains(" ") || key.hasPrefix("$")
                || key.unicodeScalars.contains(where: { $0.value < 0x20 }) {
                throw Violation(description: "property name \"\(key)\" in \(path) is not allowed: names may not be empty, start with '$', or contain '.', spaces or control characters")
            }
            if key.utf8.count > 1024 {
                throw Violation(description: "property name in \(path) is \(key.utf8.count) bytes; at most 1024 are allowed")
            }
            if case .object(let inner) = value { try checkKeys(inner, path: "\(path).\(key)") }
        }
    }
}

public enum TwinTime {
    /// ISO 8601 in UTC with milliseconds, as twin metadata and the registry write times.
    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Reads ISO 8601 with or without fractional seconds.
    public static func parse(_ text: String) -> Date? {
        (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
            ?? (try? Date(text, strategy: .iso8601))
    }
}
