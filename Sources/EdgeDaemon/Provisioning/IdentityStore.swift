import Logging

/// The module identities the daemon knows, fetched from an `IdentityProvider` and cached in
/// `<homedir>/identities.json` (0600: it holds keys), so that modules keep working when the
/// device starts without a network. The hub wins whenever it answers.
public actor IdentityStore {
    private let provider: IdentityProvider
    private let cachePath: String?
    private var identities: [String: ModuleIdentity] = [:]
    private let logger: Logger
    private var lastUnreachable: (time: Double, error: IdentityError)?
    /// Seconds during which a hub that could not be reached is not asked again.
    private let retryAfter: Double

    public init(provider: IdentityProvider, cachePath: String?, retryAfter: Double = 20,
                logger: Logger = Logger(label: "iotedged.identity")) {
        self.provider = provider
        self.retryAfter = retryAfter
        self.cachePath = cachePath
        self.logger = logger
        if let cachePath, let bytes = FileIO.read(cachePath),
           let cached = try? JSONText.decode([ModuleIdentity].self, from: bytes) {
            identities = Dictionary(cached.map { ($0.moduleId, $0) }, uniquingKeysWith: { _, b in b })
        }
    }

    /// The identity of a module by its runtime name (`edgeHub`) or hub id (`$edgeHub`).
    public func identity(for name: String) -> ModuleIdentity? {
        identities[name] ?? identities[ModuleIdentity.moduleID(forRuntimeName: name)] ?? identities["$" + name]
    }

    public func all() -> [ModuleIdentity] { identities.values.sorted { $0.moduleId < $1.moduleId } }

    /// Makes sure the module exists on the hub and its key is known. When the hub cannot be
    /// reached, a cached identity is used; without one, the error is thrown.
    @discardableResult
    public func ensure(_ moduleId: String) async throws -> ModuleIdentity {
        // A hub that just failed to answer is not asked again for a while: a module start must
        // not wait out a connect timeout for every module.
        if let failed = lastUnreachable, RFC3339.now() - failed.time < retryAfter {
            if let cached = identities[moduleId] { return cached }
            throw IdentityError(failed.error.description, unreachable: true)
        }
        do {
            let m = try await provider.ensureModule(moduleId)
            lastUnreachable = nil
            if identities[moduleId] != m {
                identities[moduleId] = m
                save()
            }
            return m
        } catch let error as IdentityError where error.unreachable {
            lastUnreachable = (RFC3339.now(), error)
            if let cached = identities[moduleId] {
                logger.warning("\(error.description); using the cached identity of \(moduleId) (generation \(cached.generationId))")
                return cached
            }
            throw error
        }
    }

    /// Reads every module of the device from the hub, replacing the cache.
    public func refresh() async throws {
        let all = try await provider.listModules()
        identities = Dictionary(all.map { ($0.moduleId, $0) }, uniquingKeysWith: { _, b in b })
        save()
    }

    public func remove(_ moduleId: String) async throws {
        try await provider.deleteModule(moduleId)
        identities[moduleId] = nil
        save()
    }

    private func save() {
        guard let cachePath else { return }
        do {
            try FileIO.write(try JSONText.encode(all()), to: cachePath, mode: 0o600)
        } catch {
            logger.warning("cannot cache module identities in \(cachePath): \(error)")
        }
    }
}
