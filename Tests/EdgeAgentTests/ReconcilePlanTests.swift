import Foundation
import Testing
import Twin
@testable import EdgeAgent

@Suite("edgeAgent: deployment, reconcile plan, restart back-off")
struct ReconcilePlanTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func desired(_ modules: [String: JSONValue], version: Int = 3) -> JSONValue {
        ["schemaVersion": "1.1", "$version": .number(Double(version)),
         "runtime": ["type": "process", "settings": [:]],
         "systemModules": ["edgeAgent": ["settings": ["image": "edge-agent"]],
                           "edgeHub": ["settings": ["image": "edge-hub"], "status": "running", "restartPolicy": "always"]],
         "modules": .object(modules)]
    }

    func module(_ image: String = "/opt/m", status: String = "running", policy: String = "always", order: Int? = nil,
                env: [String: JSONValue] = [:]) -> JSONValue {
        var m: [String: JSONValue] = ["type": "process", "status": .string(status), "restartPolicy": .string(policy),
                                      "settings": ["image": .string(image)], "env": .object(env)]
        if let order { m["startupOrder"] = .number(Double(order)) }
        return .object(m)
    }

    @Test("a deployment reads its modules; startupOrder then name decides the start order, edgeHub first")
    func parse() throws {
        let d = try AgentDeployment(desired: desired(["b": module(order: 1), "a": module(order: 2), "c": module(env: ["X": ["value": 5]])]))
        #expect(d.version == 3)
        #expect(d.startOrder.map(\.name) == ["edgeHub", "b", "a", "c"])
        #expect(d.modules["c"]?.env == ["X": "5"])
    }

    @Test("what cannot be deployed says why, with IoT Edge's status code", arguments: [
        (JSONValue.object(["$version": 2]), 417),
        (["schemaVersion": "2.0"], 412),
        (["schemaVersion": "1.1", "systemModules": [:]], 400),
    ] as [(JSONValue, Int)])
    func failures(json: JSONValue, code: Int) {
        #expect { try AgentDeployment(desired: json) } throws: { ($0 as? AgentDeployment.Failure)?.code == code }
    }

    @Test("a bad module names itself", arguments: ["restartPolicy", "image", "createOptions"])
    func badModule(field: String) {
        var m = module().objectValue!
        switch field {
        case "restartPolicy": m["restartPolicy"] = "sometimes"
        case "image": m["settings"] = [:]
        default: m["settings"] = ["image": "/x", "createOptions": "{nope"]
        }
        #expect { try AgentDeployment(desired: desired(["m1": .object(m)])) } throws: {
            ($0 as? AgentDeployment.Failure)?.description.contains("module m1") == true
        }
    }

    @Test("an empty runtime: create and start everything in order")
    func fresh() throws {
        let d = try AgentDeployment(desired: desired(["a": module(), "s": module(status: "stopped")]))
        let plan = ReconcilePlan(deployment: d, runtime: [RuntimeModule(name: "edgeAgent", state: .running)],
                                 deployedConfig: [:], backoff: [:], now: now)
        #expect(plan.commands == [.create(d.edgeHub), .start("edgeHub"), .create(d.modules["a"]!), .start("a"), .create(d.modules["s"]!)])
    }

    @Test("in sync: nothing to do; a changed spec is recreated; a module no longer deployed is removed; edgeAgent is never removed")
    func changes() throws {
        let d = try AgentDeployment(desired: desired(["a": module(), "b": module(env: ["K": ["value": "2"]])]))
        let runtime = ["edgeAgent", "edgeHub", "a", "b", "old"].map { RuntimeModule(name: $0, state: .running, startTime: now) }
        var deployed = Dictionary(uniqueKeysWithValues: d.startOrder.map { ($0.name, $0.configHash) })
        #expect(ReconcilePlan(deployment: d, runtime: Array(runtime.dropLast()), deployedConfig: deployed, backoff: [:], now: now).commands.isEmpty)
        deployed["b"] = "older"
        let plan = ReconcilePlan(deployment: d, runtime: runtime, deployedConfig: deployed, backoff: [:], now: now)
        #expect(plan.commands == [.remove("old"), .update(d.modules["b"]!), .start("b")])
    }

    @Test("a module that exits is restarted after its back-off, reported as backoff meanwhile")
    func backoff() throws {
        let d = try AgentDeployment(desired: desired(["a": module()]))
        let deployed = Dictionary(uniqueKeysWithValues: d.startOrder.map { ($0.name, $0.configHash) })
        let exited = [RuntimeModule(name: "edgeHub", state: .running), RuntimeModule(name: "a", state: .stopped, exitCode: 1, startTime: now - 30, exitTime: now - 5)]
        let waiting = ReconcilePlan(deployment: d, runtime: exited, deployedConfig: deployed, backoff: ["a": RestartBackoff(restartCount: 1)], now: now)
        #expect(waiting.commands.isEmpty)
        #expect(waiting.statuses["a"]?.status == "backoff")
        #expect(waiting.statuses["a"]?.description.contains("exited with code 1") == true)
        let due = ReconcilePlan(deployment: d, runtime: exited, deployedConfig: deployed, backoff: ["a": RestartBackoff(restartCount: 0)], now: now + 10)
        #expect(due.commands == [.restart("a")])
        let spent = ReconcilePlan(deployment: d, runtime: exited, deployedConfig: deployed, backoff: ["a": RestartBackoff(restartCount: 20)], now: now + 1000)
        #expect(spent.commands.isEmpty && spent.statuses["a"]?.status == "failed")
    }

    @Test("restart policies: never leaves it stopped; on-failure restarts only a failure")
    func policies() throws {
        let d = try AgentDeployment(desired: desired(["n": module(policy: "never"), "f": module(policy: "on-failure")]))
        let deployed = Dictionary(uniqueKeysWithValues: d.startOrder.map { ($0.name, $0.configHash) })
        let runtime = [RuntimeModule(name: "edgeHub", state: .running),
                       RuntimeModule(name: "n", state: .stopped, exitCode: 1, exitTime: now - 100),
                       RuntimeModule(name: "f", state: .stopped, exitCode: 0, exitTime: now - 100)]
        let plan = ReconcilePlan(deployment: d, runtime: runtime, deployedConfig: deployed, backoff: [:], now: now)
        #expect(plan.commands.isEmpty)
        #expect(plan.statuses["n"]?.status == "stopped" && plan.statuses["f"]?.status == "stopped")
    }

    @Test("back-off grows 10, 20, 40 … s to 300 s; ten healthy minutes clear it")
    func delays() {
        var b = RestartBackoff()
        var delays: [TimeInterval] = []
        for _ in 0..<7 { delays.append(b.delay); b.recordRestart(at: now) }
        #expect(delays == [10, 20, 40, 80, 160, 300, 300])
        b.noteRunning(since: now, now: now + 599)
        #expect(b.restartCount == 7)
        b.noteRunning(since: now, now: now + 600)
        #expect(b.restartCount == 0)
    }
}
