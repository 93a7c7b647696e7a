import AsyncHTTPClient
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Registry credentials for a module's image: from the deployment
/// (`runtime.settings.registryCredentials`, passed by edgeAgent as `config.auth`) or from
/// `iotedgectl login` on the device.
public struct RegistryAuth: Codable, Sendable, Equatable {
    public var username: String
    public var password: String
    public var serveraddress: String

    public init(username: String, password: String, serveraddress: String) {
        self.username = username
        self.password = password
        self.serveraddress = serveraddress
    }

    /// Whether these credentials are for `host` (an address may carry a scheme or a path).
    public func matches(host: String) -> Bool { Self.host(of: serveraddress) == host.lowercased() }

    public static func host(of address: String) -> String {
        var s = Substring(address.lowercased())
        if let r = s.range(of: "://") { s = s[r.upperBound...] }
        if let slash = s.firstIndex(of: "/") { s = s[..<slash] }
        return String(s)
    }
}

/// `<homedir>/registry-logins.json` (0600: it holds passwords), what `iotedgectl login` writes.
public enum RegistryLogins {
    public static func path(homeDirectory: String) -> String { FileIO.join(homeDirectory, "registry-logins.json") }

    public static func load(homeDirectory: String) -> [RegistryAuth] {
        guard let bytes = FileIO.read(path(homeDirectory: homeDirectory)) else { return [] }
        return (try? JSONText.decode([RegistryAuth].self, from: bytes)) ?? []
    }

    public static func save(_ login: RegistryAuth, homeDirectory: String) throws {
        var all = load(homeDirectory: homeDirectory).filter { RegistryAuth.host(of: $0.serveraddress) != RegistryAuth.host(of: login.serveraddress) }
        all.append(login)
        try FileIO.makeDirectories(homeDirectory)
        try FileIO.write(try JSONText.encode(all), to: path(homeDirectory: homeDirectory), mode: 0o600)
    }
}

/// A module whose image is an `http(s)://` URL: the executable is downloaded once into
/// `<homedir>/images`, with the registry credentials for its host, as a container engine
/// pulls an image. A 401 or 403 says which credentials to fix (seed 000, "Edge Agent can't
/// access a module's image (403)").
public actor ImageFetcher {
    private let directory: String
    private let homeDirectory: String

    public init(homeDirectory: String) {
        self.homeDirectory = homeDirectory
        self.directory = FileIO.join(homeDirectory, "images")
    }

    public static func isURL(_ image: String) -> Bool { image.hasPrefix("https://") || image.hasPrefix("http://") }

    /// The local path of the image's executable, downloading it when it is not there yet or
    /// `pullPolicy` is `always`... on create only, as IoT Edge's `on-create` does by default.
    public func executable(for url: String, auth: RegistryAuth?, module: String) async throws(RuntimeError) -> String {
        let local = FileIO.join(directory, Self.fileName(url))
        if FileIO.exists(local) { return local }
        let host = Self.host(of: url)
        let credentials = (auth.flatMap { $0.matches(host: host) ? $0 : nil })
            ?? RegistryLogins.load(homeDirectory: homeDirectory).first { $0.matches(host: host) }
        var request = HTTPClientRequest(url: url)
        if let c = credentials {
            request.headers.add(name: "Authorization", value: "Basic " + Base64.encode(Array("\(c.username):\(c.password)".utf8)))
        }
        let bytes: ByteBuffer
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
            switch response.status.code {
            case 200:
                bytes = try await response.body.collect(upTo: 512 << 20)
            case 401, 403:
                let how = credentials == nil
                    ? "no registry credentials are set for \(host)"
                    : "the registry refused the credentials of \(credentials!.username) for \(host)"
                throw RuntimeError.failed("""
                could not fetch image \(url): \(response.status.code) \(response.status.reasonPhrase): edgeAgent has no permission \
                to access the module's image (\(how)). Put the registry's address, username and password in the deployment \
                manifest's runtime.settings.registryCredentials, or run on the device: \
                iotedgectl login --address \(host) --username <user> --password <password>
                """)
            default:
                throw RuntimeError.failed("could not fetch image \(url): the server answered \(response.status.code) \(response.status.reasonPhrase)")
            }
        } catch let error as RuntimeError {
            throw error
        } catch {
            throw RuntimeError.failed("could not fetch image \(url): \(error). Check the address and the network from this device")
        }
        do {
            try FileIO.makeDirectories(directory, mode: 0o700)
            try FileIO.write(Array(buffer: bytes), to: local, mode: 0o755)
        } catch {
            throw RuntimeError.failed("could not store image \(url) in \(directory): \(error)")
        }
        return local
    }

    static func host(of url: String) -> String { RegistryAuth.host(of: url) }

    /// A file name unique to the URL and readable in a listing.
    static func fileName(_ url: String) -> String {
        let safe = url.drop { $0 != ":" }.dropFirst(3).map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" }
        var hash: UInt64 = 0xcbf29ce484222325
        for b in url.utf8 { hash = (hash ^ UInt64(b)) &* 0x100000001b3 }
        return String(safe.suffix(80)) + "-" + String(hash, radix: 16)
    }
}
