#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns a module's `image` into the executable to start and its argv[0]. An absolute path is
/// used as it is. A name is looked up next to iotedged's own executable (where `edge-agent`,
/// `edge-hub` and `simulated-temperature-sensor` are installed), then in the extra directories,
/// then on PATH. A container image reference keeps only its last path component without tag or
/// digest, and Azure's runtime images map to Outpost's executables, so that
/// `mcr.microsoft.com/azureiotedge-agent:1.5` runs `edge-agent`. A name among `ownPrograms`
/// (iotedged's are `edge-agent` and `edge-hub`) runs `ownExecutable` with that name as argv[0]
/// instead: the daemon's executable contains those programs and picks one by its argv[0], so
/// the system modules share the daemon's text pages.
public struct ExecutableResolver: Sendable {
    /// What to start: the file, and the argv[0] to give it.
    public struct Program: Equatable, Sendable {
        public var path: String
        public var argv0: String
        public init(path: String, argv0: String? = nil) {
            self.path = path
            self.argv0 = argv0 ?? path
        }
    }

    public var directories: [String]
    public var searchPath: Bool
    public var ownPrograms: Set<String>
    /// `/proc/self/exe` by default: exec'd by the spawned child, it is the very file the daemon
    /// runs (even after an upgrade replaced or removed it on disk), so the pages are shared and
    /// edgeAgent and edgeHub are always the daemon's own version.
    public var ownExecutable: String?

    public init(directories: [String] = [], searchPath: Bool = true, ownPrograms: Set<String> = [],
                ownExecutable: String? = "/proc/self/exe") {
        self.directories = directories
        self.searchPath = searchPath
        self.ownPrograms = ownPrograms
        self.ownExecutable = ownExecutable
    }

    /// The directory of the running executable (`/proc/self/exe`).
    public static var ownDirectory: String? { FileIO.ownExecutable.map { FileIO.dirname(of: $0) } }

    /// The daemon's resolver: its own programs, then its own directory, then PATH.
    public static func standard(extra: [String] = [], ownPrograms: Set<String> = []) -> ExecutableResolver {
        ExecutableResolver(directories: (ownDirectory.map { [$0] } ?? []) + extra, ownPrograms: ownPrograms)
    }

    /// The executable `name` beside `program`'s (Outpost's binaries ship together), else on PATH.
    public static func sibling(_ name: String, of program: String = "/proc/self/exe") -> String? {
        let beside = FileIO.readLink(program).map { [FileIO.dirname(of: $0)] } ?? []
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in beside + path.split(separator: ":").map(String.init) where !dir.isEmpty {
            let candidate = FileIO.join(dir, name)
            if access(candidate, X_OK) == 0, !FileIO.isDirectory(candidate) { return candidate }
        }
        return nil
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

    public func resolve(_ image: String) -> Result<Program, RuntimeError> {
        let image = image.trimmingSpaces()
        guard !image.isEmpty else { return .failure(.invalidSpec("the module has no image (settings.image)")) }
        if image.hasPrefix("/") {
            guard FileIO.exists(image) else {
                return .failure(.invalidSpec("the executable \(image) does not exist"))
            }
            guard access(image, X_OK) == 0, !FileIO.isDirectory(image) else {
                return .failure(.invalidSpec("\(image) is not executable (chmod +x it)"))
            }
            return .success(Program(path: image))
        }
        let name = Self.name(ofImage: image)
        if ownPrograms.contains(name), let own = ownExecutable {
            return .success(Program(path: own, argv0: name))
        }
        var candidates = directories
        if searchPath, let path = getenv("PATH") {
            candidates += String(cString: path).split(separator: ":").map(String.init)
        }
        for dir in candidates where !dir.isEmpty {
            let full = FileIO.join(dir, name)
            if access(full, X_OK) == 0, !FileIO.isDirectory(full) { return .success(Program(path: full)) }
        }
        return .failure(.invalidSpec("no executable \"\(name)\" for image \"\(image)\": looked in \(candidates.filter { !$0.isEmpty }.prefix(4).joined(separator: ", "))\(candidates.count > 4 ? ", …" : ""). Give an absolute path, or install it next to iotedged"))
    }
}
