/// Where module identities come from. The daemon's real one is `HubIdentityClient` (the hub's
/// registry over HTTPS, authenticated with the device's own SAS token); tests and offline runs
/// use `StaticIdentityProvider`. Kept a protocol so that everything else is tested without a hub.
public protocol IdentityProvider: Sendable {
    /// The device's modules as the hub knows them.
    func listModules() async throws -> [ModuleIdentity]
    /// The module's identity, created on the hub (managed by iotEdge) if it does not exist.
    func ensureModule(_ moduleId: String) async throws -> ModuleIdentity
    /// Removes the module's identity from the hub; no error when it is already gone.
    func deleteModule(_ moduleId: String) async throws
}

/// Why an identity could not be had from the hub.
public struct IdentityError: Error, Sendable, CustomStringConvertible {
    public var description: String
    /// True when the hub could not be reached (then the cache is used).
    public var unreachable: Bool
    public init(_ description: String, unreachable: Bool = false) {
        self.description = description
        self.unreachable = unreachable
    }
}

/// Identities kept in memory: a hub that cannot be reached (`unreachable`), or a test's fixed
/// set. New modules get a random key and a generation id.
public actor StaticIdentityProvider: IdentityProvider {
    private var modules: [String: ModuleIdentity]
    private let unreachable: Bool
    private var counter = 0

    public init(_ modules: [ModuleIdentity] = [], unreachable: Bool = false) {
        self.modules = Dictionary(modules.map { ($0.moduleId, $0) }, uniquingKeysWith: { a, _ in a })
        self.unreachable = unreachable
    }

    public func listModules() async throws -> [ModuleIdentity] {
        if unreachable { throw IdentityError("the hub is unreachable", unreachable: true) }
        return modules.values.sorted { $0.moduleId < $1.moduleId }
    }

    public func ensureModule(_ moduleId: String) async throws -> ModuleIdentity {
        if unreachable { throw IdentityError("the hub is unreachable", unreachable: true) }
        if let m = modules[moduleId] { return m }
        counter += 1
        let key = Base64.encode((0..<32).map { _ in UInt8.random(in: 0...255) })
        let m = ModuleIdentity(moduleId: moduleId, generationId: "63800000000000000\(counter)", primaryKey: key)
        modules[moduleId] = m
        return m
    }

    public func deleteModule(_ moduleId: String) async throws {
        if unreachable { throw IdentityError("the hub is unreachable", unreachable: true) }
        modules[moduleId] = nil
    }
}
