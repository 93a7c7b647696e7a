import Foundation
import Twin

/// The `$edgeAgent` reported properties: what runs, in IoT Edge's shape, so that the hub (and
/// `iothub edge show`) sees each module's runtimeStatus, exit code and restarts.
public struct AgentReport: Sendable {
    public static let version = "1.5.0-outpost"

    public struct ModuleFacts: Sendable {
        public var runtimeStatus: String
        public var description: String
        public var exitCode: Int32?
        public var lastStartTime: Date?
        public var lastExitTime: Date?
        public var restartCount: Int
        public var lastRestartTime: Date?

        public init(runtimeStatus: String, description: String, exitCode: Int32?, lastStartTime: Date?, lastExitTime: Date?,
                    restartCount: Int, lastRestartTime: Date?) {
            self.runtimeStatus = runtimeStatus
            self.description = description
            self.exitCode = exitCode
            self.lastStartTime = lastStartTime
            self.lastExitTime = lastExitTime
            self.restartCount = restartCount
            self.lastRestartTime = lastRestartTime
        }
    }

    /// The whole reported document. `previousModules` are the names reported last time: those
    /// gone from the deployment are sent as null, which removes them (twin patches merge).
    public static func document(deployment: AgentDeployment?, desiredVersion: Int, status: (code: Int, description: String),
                                facts: [String: ModuleFacts], previousModules: Set<String>, architecture: String) -> JSONValue {
        func module(_ spec: ModuleSpec?, _ name: String) -> JSONValue {
            let f = facts[name]
            var o: [String: JSONValue] = ["type": "process", "runtimeStatus": .string(f?.runtimeStatus ?? "unknown")]
            if let f {
                o["statusDescription"] = .string(f.description)
                o["exitCode"] = f.exitCode.map { .number(Double($0)) } ?? .number(0)
                o["restartCount"] = .number(Double(f.restartCount))
                if let t = f.lastStartTime { o["lastStartTimeUtc"] = .string(TwinTime.format(t)) }
                if let t = f.lastExitTime { o["lastExitTimeUtc"] = .string(TwinTime.format(t)) }
                if let t = f.lastRestartTime { o["lastRestartTimeUtc"] = .string(TwinTime.format(t)) }
            }
            if let spec {
                o["settings"] = ["image": .string(spec.image), "createOptions": .string(spec.createOptions)]
                o["status"] = .string(spec.desiredStatus)
                o["restartPolicy"] = .string(spec.restartPolicy.rawValue)
                o["version"] = .string(spec.version)
            }
            return .object(o)
        }
        var modules: [String: JSONValue] = [:]
        for name in previousModules { modules[name] = .null }
        for (name, spec) in deployment?.modules ?? [:] { modules[name] = module(spec, name) }
        return [
            "schemaVersion": "1.1",
            "version": ["version": .string(version), "build": "", "commit": ""],
            "lastDesiredVersion": .number(Double(desiredVersion)),
            "lastDesiredStatus": ["code": .number(Double(status.code)), "description": .string(status.description)],
            "runtime": ["type": "process", "platform": ["os": "linux", "architecture": .string(architecture), "version": .string(version)]],
            "systemModules": ["edgeAgent": module(nil, "edgeAgent"), "edgeHub": module(deployment?.edgeHub, "edgeHub")],
            "modules": .object(modules),
        ]
    }
}
