import Foundation
import Twin

/// A deployment for one edge device (`az iot edge set-modules`'s content): the desired
/// properties of `$edgeAgent`, `$edgeHub` and each module. Checked before anything is applied,
/// with errors that name the path of the bad field.
struct DeploymentManifest {
    /// Module id → its desired properties.
    var modules: [String: [String: JSONValue]]

    static let restartPolicies = ["never", "on-failure", "on-unhealthy", "always"]
    static let statuses = ["running", "stopped"]

    init(_ body: [String: JSONValue]) throws {
        guard case .object(let content)? = body["modulesContent"] ?? body["content"]?["modulesContent"] else {
            throw HubError.argumentInvalid("The deployment needs modulesContent: {\"modulesContent\": {\"$edgeAgent\": {\"properties.desired\": {…}}, \"$edgeHub\": {…}}}.")
        }
        var modules: [String: [String: JSONValue]] = [:]
        for (id, value) in content {
            guard case .object(let desired)? = value["properties.desired"] else {
                throw HubError.argumentInvalid("modulesContent.\(id) needs a \"properties.desired\" object.")
            }
            modules[id] = desired
        }
        guard let agent = modules["$edgeAgent"] else {
            throw HubError.argumentInvalid("modulesContent has no $edgeAgent: the edge agent's desired properties are the deployment.")
        }
        guard modules["$edgeHub"] != nil else {
            throw HubError.argumentInvalid("modulesContent has no $edgeHub: give at least {\"schemaVersion\": \"1.1\", \"routes\": {}, \"storeAndForwardConfiguration\": {\"timeToLiveSecs\": 7200}}.")
        }
        try Self.checkAgent(agent)
        self.modules = modules
    }

    /// The user modules the agent's desired properties name.
    var userModules: [String] {
        modules["$edgeAgent"]?["modules"]?.objectValue.map { Array($0.keys).sorted() } ?? []
    }

    private static func checkAgent(_ agent: [String: JSONValue]) throws {
        let at = "modulesContent.$edgeAgent.properties.desired"
        guard agent["schemaVersion"]?.stringValue != nil else {
            throw HubError.argumentInvalid("\(at).schemaVersion is missing: use \"1.1\".")
        }
        guard case .object? = agent["runtime"] else {
            throw HubError.argumentInvalid("\(at).runtime is missing: {\"type\": \"process\", \"settings\": {}}.")
        }
        guard case .object(let system)? = agent["systemModules"], system["edgeAgent"] != nil, system["edgeHub"] != nil else {
            throw HubError.argumentInvalid("\(at).systemModules must define edgeAgent and edgeHub.")
        }
        for (name, spec) in system { try checkModule(spec, at: "\(at).systemModules.\(name)", system: true) }
        if let modules = agent["modules"] {
            guard case .object(let list) = modules else { throw HubError.argumentInvalid("\(at).modules must be an object of modules by name.") }
            for (name, spec) in list {
                guard IdentityName.isValid(name) else {
                    throw HubError.argumentInvalid("\(at).modules.\(name): a module name may use letters, digits and - _ . (at most 128), not start with '$'.")
                }
                try checkModule(spec, at: "\(at).modules.\(name)", system: false)
            }
        }
    }

    private static func checkModule(_ spec: JSONValue, at path: String, system: Bool) throws {
        guard case .object = spec else { throw HubError.argumentInvalid("\(path) must be an object.") }
        guard let image = spec["settings"]?["image"]?.stringValue, !image.isEmpty else {
            throw HubError.argumentInvalid("\(path).settings.image is missing: name the module's executable (an absolute path, or a module shipped with Outpost).")
        }
        if let createOptions = spec["settings"]?["createOptions"] {
            guard let text = createOptions.stringValue, (try? JSONValue(parsing: text))?.objectValue != nil else {
                throw HubError.argumentInvalid("\(path).settings.createOptions must be a string holding a JSON object, as Docker's are.")
            }
        }
        if let policy = spec["restartPolicy"] {
            guard let p = policy.stringValue, restartPolicies.contains(p) else {
                throw HubError.argumentInvalid("\(path).restartPolicy must be one of \(restartPolicies.joined(separator: ", ")).")
            }
        } else if !system {
            throw HubError.argumentInvalid("\(path).restartPolicy is missing: one of \(restartPolicies.joined(separator: ", ")).")
        }
        if let status = spec["status"] {
            guard let s = status.stringValue, statuses.contains(s) else {
                throw HubError.argumentInvalid("\(path).status must be running or stopped.")
            }
        }
    }
}

enum IdentityName {
    static func isValid(_ name: String) -> Bool {
        (1...128).contains(name.count) && !name.hasPrefix("$")
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }
}
