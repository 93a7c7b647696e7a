import Foundation
import EdgeAgent
import EdgeModule
import Twin

/// The daemon's module runtime, seen through the management API.
struct RuntimeClient: Sendable {
    let api: EdgeAPIClient

    func list() async throws -> [RuntimeModule] {
        let answer = try await api.call(.GET, "/modules")
        guard case .array(let modules)? = answer["modules"] else { return [] }
        return modules.compactMap { m in
            guard let name = m["name"]?.stringValue else { return nil }
            let status = m["status"]?["runtimeStatus"]?["status"]?.stringValue ?? "unknown"
            let exit = m["status"]?["exitStatus"]
            return RuntimeModule(name: name, state: RuntimeModule.State(rawValue: status) ?? .unknown,
                                 exitCode: exit?["statusCode"]?.stringValue.flatMap { Int32($0) },
                                 startTime: m["status"]?["startTime"]?.stringValue.flatMap(TwinTime.parse),
                                 exitTime: exit?["exitTime"]?.stringValue.flatMap(TwinTime.parse))
        }
    }

    func create(_ spec: ModuleSpec, update: Bool, credential: AgentDeployment.RegistryCredential? = nil) async throws {
        let createOptions = (try? JSONValue(parsing: spec.createOptions)) ?? .object([:])
        var config: [String: JSONValue] = [
            "image": .string(spec.image),
            "settings": ["image": .string(spec.image), "createOptions": createOptions],
            "env": .array(spec.env.keys.sorted().map { ["key": .string($0), "value": .string(spec.env[$0]!)] }),
        ]
        if let c = credential {
            config["auth"] = ["username": .string(c.username), "password": .string(c.password), "serveraddress": .string(c.address)]
        }
        let body: JSONValue = [
            "name": .string(spec.name), "type": "process", "imagePullPolicy": .string(spec.imagePullPolicy),
            "config": .object(config),
        ]
        if update {
            _ = try await api.call(.PUT, "/modules/\(EdgeAPIClient.segment(spec.name))", body: body)
        } else {
            _ = try await api.call(.POST, "/modules", body: body)
        }
    }

    func action(_ verb: String, _ name: String) async throws {
        _ = try await api.call(.POST, "/modules/\(EdgeAPIClient.segment(name))/\(verb)")
    }

    /// edgeAgent's view of a module it keeps stopped, for `iotedge list`.
    func annotate(_ name: String, status: String, nextStart: Date?) async throws {
        var fields: [String: JSONValue] = ["status": .string(status)]
        if let nextStart { fields["nextStartTime"] = .string(TwinTime.format(nextStart)) }
        let body = JSONValue.object(fields)
        _ = try await api.call(.PUT, "/modules/\(EdgeAPIClient.segment(name))/agentstatus", body: body)
    }

    func remove(_ name: String) async throws {
        _ = try await api.call(.DELETE, "/modules/\(EdgeAPIClient.segment(name))")
    }
}
