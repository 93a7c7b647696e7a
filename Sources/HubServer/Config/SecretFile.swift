import Foundation

/// Writes secrets so that only their owner can read them (mode 0600), without a window in which
/// the file exists with wider permissions.
enum SecretFile {
    static func write(_ text: String, to url: URL) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw HubSetupError.cannotWrite(url.path, String(cString: strerror(errno))) }
        defer { close(fd) }
        fchmod(fd, 0o600)
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Foundation.write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw HubSetupError.cannotWrite(url.path, String(cString: strerror(errno)))
        }
        fsync(fd)
    }

    static func read(_ url: URL) throws -> String {
        do { return try String(contentsOf: url, encoding: .utf8) } catch {
            throw HubSetupError.cannotRead(url.path, error.localizedDescription)
        }
    }
}

public enum HubSetupError: Error, CustomStringConvertible {
    case cannotWrite(String, String)
    case cannotRead(String, String)
    case invalidHost(String)
    case certificate(String)
    case dataDirectoryInUse(String, String)
    case cannotListen(String, String)

    public var description: String {
        switch self {
        case .cannotWrite(let p, let why): "cannot write \(p): \(why). Check that the data directory is writable by this user."
        case .cannotRead(let p, let why): "cannot read \(p): \(why)."
        case .invalidHost(let h): "invalid --host \"\(h)\": give a DNS name (letters, digits, '-', '.') or an IP address."
        case .certificate(let why): "cannot create the hub's certificates: \(why)"
        case .dataDirectoryInUse(let dir, let pid):
            "another iothub serve (pid \(pid)) is using \(dir): stop it first, or give this one its own --data-dir."
        case .cannotListen(let what, let why): "cannot listen on \(what): \(why)."
        }
    }
}
