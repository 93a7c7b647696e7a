/// Container and blob names, checked before anything touches the disk: a container is a
/// directory under `blobs/` and a blob a file path inside it, so a name must follow Azure's rules
/// and must not climb out of its container.
public enum BlobName {
    /// Azure's container rules: 3–63 characters, lowercase letters, digits and hyphens, starting
    /// with a letter or digit, every hyphen between two letters or digits
    /// (https://learn.microsoft.com/rest/api/storageservices/naming-and-referencing-containers--blobs--and-metadata).
    /// Returns what is wrong, or nil when the name is valid.
    public static func containerProblem(_ name: String) -> String? {
        let example = "e.g. fileupload or support-bundles"
        guard (3...63).contains(name.count) else {
            return "container name \"\(name)\" is \(name.count) characters long; it must be 3 to 63 (\(example))."
        }
        if let bad = name.first(where: { !(("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-") }) {
            return "container name \"\(name)\" contains '\(bad)'; use only lowercase letters, digits and hyphens (\(example))."
        }
        if name.hasPrefix("-") || name.hasSuffix("-") || name.contains("--") {
            return "container name \"\(name)\" must start and end with a letter or digit and have no two hyphens in a row (\(example))."
        }
        return nil
    }

    /// Azure allows 1,024 characters; each path segment becomes a file or directory name, which
    /// the file system limits to 255 bytes.
    public static let maxBlobLength = 1024
    static let maxSegmentBytes = 255

    /// A blob name is a `/`-separated path inside its container: no empty, `.` or `..` segments
    /// (which would escape the container or alias another blob), no control characters.
    public static func blobProblem(_ name: String) -> String? {
        guard !name.isEmpty else { return "the blob name is empty; put it after the container in the URL (…/container/name)." }
        guard name.count <= maxBlobLength else {
            return "the blob name is \(name.count) characters long; at most \(maxBlobLength) are allowed."
        }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "blob name \"\(name.debugDescription.dropFirst().dropLast())\" contains a control character."
        }
        for segment in name.split(separator: "/", omittingEmptySubsequences: false) {
            if segment.isEmpty { return "blob name \"\(name)\" has an empty path segment (a leading, trailing or doubled '/')." }
            if segment == "." || segment == ".." {
                return "blob name \"\(name)\" contains a '\(segment)' segment; names may not refer outside their container or to themselves."
            }
            if segment.utf8.count > maxSegmentBytes {
                return "blob name \"\(name)\" has a path segment longer than \(maxSegmentBytes) bytes."
            }
        }
        return nil
    }
}
