import EdgeModule
import AsyncHTTPClient
import Foundation
import IoTClient
import Logging
import NIOCore
import Twin

/// The sample module: a machine whose temperature climbs and whose ambient temperature
/// wanders, sent on output `temperatureOutput` every `SendInterval` seconds (default 5) as
/// Azure's SimulatedTemperatureSensor does; `MessageCount` stops it after that many (0: never);
/// the direct method `reset` brings the machine back to its start temperature.
@main
enum SimulatedTemperatureSensor {
    static func main() async {
        await ModuleMain.run(label: "SimulatedTemperatureSensor", startLines: ["SimulatedTemperatureSensor Main() started."],
                             stopping: "SimulatedTemperatureSensor stopped") { env, logger in
            try await run(env, logger)
        }
    }

    static func run(_ env: [String: String], _ logger: Logger) async throws {
        func need(_ key: String) throws -> String {
            guard let v = env[key], !v.isEmpty else { throw EdgeModuleError("\(key) is not set: run this module under iotedged") }
            return v
        }
        let interval = Double(env["SendInterval"] ?? "") ?? 5
        let count = Int(env["MessageCount"] ?? "") ?? 0
        let http = HTTPClient.shared  // lives as long as the process; never shut down
        let workload = WorkloadClient(api: try EdgeAPIClient(http: http, uri: try need("IOTEDGE_WORKLOADURI")),
                                      moduleID: try need("IOTEDGE_MODULEID"), generationID: env["IOTEDGE_MODULEGENERATIONID"] ?? "")
        var config = IoTClientConfiguration(hostName: try need("IOTEDGE_IOTHUBHOSTNAME"), deviceID: try need("IOTEDGE_DEVICEID"),
                                            moduleID: workload.moduleID, credentials: .signer({ try await workload.sign($0) }))
        config.gatewayHostName = env["IOTEDGE_GATEWAYHOSTNAME"]
        config.trustedCAPEM = try await workload.trustBundle()
        config.transports = [.mqtt]
        config.productInfo = "outpost-SimulatedTemperatureSensor/1.0"
        let client = try IoTClient(configuration: config, logger: logger)
        // edgeHub may start after this module: wait for it rather than fail.
        var wait = 1.0
        while true {
            do {
                try await client.connect()
                break
            } catch {
                logger.warning("edgeHub is not reachable yet; retrying in \(Int(wait)) s: \(error)")
                try await Task.sleep(for: .seconds(wait))
                wait = min(wait * 2, 30)
            }
        }
        let machine = Machine()
        try await client.onMethod { request in
            guard request.name.lowercased() == "reset" else {
                return MethodResponse(status: 404, payload: ["message": .string("no method \(request.name); try reset")])
            }
            await machine.reset()
            logger.info("Reset the machine temperature")
            return MethodResponse(status: 200, payload: ["message": "reset"])
        }
        var sent = 0
        // A fixed rate, one message every SendInterval, whatever a send takes (within a second's
        // lag; further behind, it starts counting again rather than burst).
        let clock = ContinuousClock()
        let step = Duration.milliseconds(Int64(interval * 1000))
        var next = clock.now
        while count == 0 || sent < count {
            let reading = await machine.next()
            let body: JSONValue = [
                "machine": ["temperature": .number(reading.machine), "pressure": .number(reading.pressure)],
                "ambient": ["temperature": .number(reading.ambient), "humidity": 25],
                "timeCreated": .string(TwinTime.format(Date())),
            ]
            try await client.sendOutputEvent(output: "temperatureOutput", ByteBuffer(string: body.jsonText), properties: ["sequenceNumber": String(sent)],
                                             systemProperties: MessageSystemProperties(contentType: "application/json", contentEncoding: "utf-8"))
            sent += 1
            logger.info("Sent message \(sent): machine \(reading.machine) °C")
            next += step
            if next < clock.now - .seconds(1) { next = clock.now }
            if next > clock.now { try await Task.sleep(until: next, clock: clock) }
        }
        logger.info("Sent \(sent) messages; done.")
        while true { try await Task.sleep(for: .seconds(3600)) }
    }
}

actor Machine {
    private var temperature = 21.0
    private var ambient = 21.0

    func next() -> (machine: Double, pressure: Double, ambient: Double) {
        temperature += Double.random(in: 0...1)
        ambient += Double.random(in: -0.5...0.5)
        let t = (temperature * 100).rounded() / 100
        return (t, ((1 + (t - 21) / 80) * 1000).rounded() / 1000, (ambient * 100).rounded() / 100)
    }

    func reset() { temperature = 21 }
}
