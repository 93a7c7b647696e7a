import Foundation

/// The human view of a twin: a header block, then tags, desired and reported as sorted JSON.
enum TwinView {
    static func show(_ any: Any, metadata: Bool) {
        guard let twin = any as? [String: Any] else { Output.printJSON(any); return }
        var pairs: [(String, String)] = [("Device ID", Output.string(twin["deviceId"]))]
        if let module = twin["moduleId"] as? String, !module.isEmpty { pairs.append(("Module ID", module)) }
        pairs += [
            ("Version", Output.string(twin["version"])),
            ("ETag", Output.string(twin["etag"])),
            ("Connection", Output.string(twin["connectionState"])),
            ("Status", Output.string(twin["status"])),
        ]
        Output.printFields(pairs)
        let sections: [(String, Any?)] = [
            ("tags", twin["tags"]),
            ("desired", twin.path("properties", "desired")),
            ("reported", twin.path("properties", "reported")),
        ]
        for (title, value) in sections {
            print()
            Output.printHeading(title)
            var shown = value as? [String: Any] ?? [:]
            if !metadata { shown["$metadata"] = nil }
            Output.printJSON(shown)
        }
    }

    /// Desired or reported properties without the hub's bookkeeping (`$metadata`, `$version`),
    /// as a PUT body takes them.
    static func userProperties(_ any: Any?) -> [String: Any] {
        var properties = any as? [String: Any] ?? [:]
        properties["$metadata"] = nil
        properties["$version"] = nil
        return properties
    }
}
