#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns a module's `image` into an executable path. An absolute path is used as it is. A
/// name is looked up next to iotedged's own executable (where `edge-agent`, `edge-hub` and
/// `simulated-temperature-sensor` are installed), then in the extra directories, then on
/// PATH. A container image reference keeps only its last path component without tag or
/// digest, and Azure's runtime images map to Outpost's executables, so that
/// `mcr.microsoft.com/azureiotedge-agent:1.5` runs `edge-agent`.
public struct ExecutableResolver: Sendable {
    public var directories: [String]
    public var searchPath: Bool

    public init(directories: [String] = [], searchPath: Bool = true) {
        self.directories = directories
        self.searchPath = searchPath
    }

    /// The directory of the running executable (`/proc/self/exe`).
    public static var ownDirectory: String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return FileIO.dirname(of: String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// The daemon's resolver: its own directory first, then PATH.
    public static func standard(extra: [String] = []) -> ExecutableResolver {
        ExecutableResolver(directories: (ownDirectory.map { [$0] } ?? []) + extra)
    }

    static let azureImages: [String: String] = [
        "azureiotedge-agent": "edge-agent",
        "azureiotedge-hub": "edge-hub",
        "azureiotedge-simulated-temperature-sensor": "simulated-temperature-sensor",
        "simulatedtemperaturesensor": "simulated-temperature-sensor",
    ]

    /// The executable's name for an image reference (`mcr.microsoft.com/x/y:1.0` is `y`).
    public static func name(ofImage image: String) -> String {
        var last = Substring(image)
        if let slash = last.lastIndex(of: "/") { last = last[last.index(after: slash)...] }
        if let at = last.firstIndex(of: "@") { last = last[..<at] }
        if let colon = last.firstIndex(of: ":") { last = last[..<colon] }
        let name = String(last)
        return azureImages[name.lowercased()] ?? name
    }

    public func resolve(_ image: String) -> Result<String, RuntimeError> {
        let image = image.trimmingSpaces()
        guard !image.isEmpty else { return .failure(.invalidSpec("the module has no image (settings.image)")) }
        if image.hasPrefix("/") {
            guard FileIO.exists(image) else {
                return .failure(.invalidSpec("the executable \(image) does not exist"))
            }
            guard access(image, X_OK) == 0, !FileIO.isDirectory(image) else {
                return .failure(.invalidSpec("\(image) is not executable (chmod +x it)"))
            }
            return .success(image)
        }
        let name = Self.name(ofImage: image)
        var candidates = directories
        if searchPath, let path = getenv("PATH") {
            candidates += String(cString: path).split(separator: ":").map(String.init)
        }
        for dir in candidates where !dir.isEmpty {
            let full = FileIO.join(dir, name)
            if access(full, X_OK) == 0, !FileIO.isDirectory(full) { return .success(full) }
        }
        return .failure(.invalidSpec("no executable \"\(name)\" for image \"\(image)\": looked in \(candidates.filter { !$0.isEmpty }.prefix(4).joined(separator: ", "))\(candidates.count > 4 ? ", …" : ""). Give an absolute path, or install it next to iotedged"))
    }
}
