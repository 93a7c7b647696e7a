import Foundation
import HubStore
@testable import HubServer
import IoTProtocol
import Testing
import Twin

@Suite("Durations as people and Azure write them")
struct DurationTextTests {
    @Test("short forms and ISO 8601", arguments: [
        ("90", 90.0), ("90s", 90), ("5m", 300), ("1h", 3600), ("2d", 172_800), ("250ms", 0.25),
        ("PT5M", 300), ("PT1H30M", 5400), ("P1D", 86_400), ("P1DT2H", 93_600), ("pt30s", 30),
    ])
    func parses(text: String, seconds: Double) {
        #expect(DurationText.seconds(text) == seconds)
    }

    @Test("anything else is nil", arguments: ["", "m", "5x", "-5s", "PT", "P5M", "PT5", "1h30"])
    func refuses(text: String) {
        #expect(DurationText.seconds(text) == nil)
    }

    @Test("ISO text for windows")
    func iso() {
        #expect(DurationText.iso(seconds: 300) == "PT5M")
        #expect(DurationText.iso(seconds: 3) == "PT3S")
        #expect(DurationText.iso(seconds: 93_600) == "P1DT2H")
        #expect(DurationText.iso(seconds: 0) == "PT0S")
    }
}

@Suite("Metric buckets and aggregates")
struct HubMetricsTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("gauges aggregate their samples over a window; no sample is no answer")
    func gauges() throws {
        let metrics = HubMetrics()
        for (i, v) in [3.0, 1, 2].enumerated() { metrics.sample(.connectedDeviceCount, v, at: t0 + Double(i)) }
        let a = try #require(metrics.aggregate(.connectedDeviceCount, from: t0, to: t0 + 3))
        #expect(a.minimum == 1 && a.maximum == 3 && a.count == 3 && a.average == 2)
        #expect(metrics.aggregate(.connectedDeviceCount, from: t0 + 10, to: t0 + 20) == nil)
        #expect(metrics.current(.connectedDeviceCount) == 2)
    }

    @Test("counters sum their events; a quiet window is zero, not missing")
    func counters() throws {
        let metrics = HubMetrics()
        metrics.increment(.telemetrySuccess, at: t0)
        metrics.increment(.telemetrySuccess, by: 4, at: t0 + 1)
        #expect(metrics.aggregate(.telemetrySuccess, from: t0, to: t0 + 2)?.total == 5)
        #expect(metrics.aggregate(.telemetrySuccess, from: t0 + 5, to: t0 + 6)?.total == 0)
        #expect(metrics.current(.telemetrySuccess) == 5)
        #expect(metrics.prometheusText().contains("iothub_d2c_telemetry_ingress_success_total 5"))
    }

    @Test("minute rows aggregate the minute's seconds; quiet counters get a zero row")
    func minuteRows() {
        let metrics = HubMetrics()
        let minute = Int64(t0.timeIntervalSince1970) / 60
        let start = Date(timeIntervalSince1970: Double(minute * 60))
        metrics.sample(.connectedDeviceCount, 4, at: start)
        metrics.sample(.connectedDeviceCount, 6, at: start + 59)
        metrics.sample(.connectedDeviceCount, 100, at: start + 60)
        let rows = metrics.minuteRows(minute: minute)
        let gauge = rows.first { $0.name == "connectedDeviceCount" }
        #expect(gauge == MetricSampleRow(name: "connectedDeviceCount", minute: minute, count: 2, total: 10, minimum: 4, maximum: 6))
        #expect(rows.contains { $0.name == "d2c.telemetry.ingress.success" && $0.count == 0 })
        #expect(!rows.contains { $0.name == "totalDeviceCount" })
    }

    @Test("Prometheus names")
    func names() {
        #expect(HubMetric.connectedDeviceCount.prometheusName == "iothub_connected_device_count")
        #expect(HubMetric.telemetryAttempts.prometheusName == "iothub_d2c_telemetry_ingress_all_protocol")
    }
}

@Suite("Alert rules")
struct AlertRuleTests {
    @Test("a rule from the seed's form: connectedDeviceCount LessThan 5 over 5 minutes, Minimum")
    func parse() throws {
        let rule = try AlertRule(body: ["metric": "connectedDeviceCount", "operator": "LessThan", "threshold": 5,
                                        "window": "5m", "aggregation": "Minimum", "actions": ["log", "webhook:http://127.0.0.1:9/x"]])
        #expect(rule.windowSeconds == 300 && rule.window == "PT5M")
        #expect(rule.operator.holds(4, rule.threshold) && !rule.operator.holds(5, rule.threshold))
        #expect(rule.aggregation.pick(MetricAggregate(count: 2, total: 9, minimum: 4, maximum: 5)) == 4)
        #expect(rule.actions.map(\.description) == ["log", "webhook:http://127.0.0.1:9/x"])
        let data = try JSONEncoder().encode(rule)
        #expect(try JSONDecoder().decode(AlertRule.self, from: data) == rule)
    }

    @Test("each bad field is named", arguments: [
        (["metric": "nope"], "metric"), (["operator": "Below"], "operator"), (["threshold": "x"], "threshold"),
        (["window": "2h"], "window"), (["window": "soon"], "window"), (["aggregation": "Median"], "aggregation"),
        (["actions": []], "actions"), (["actions": ["email:x"]], "action"), (["enabled": "yes"], "enabled"),
    ] as [([String: JSONValue], String)])
    func refuses(change: [String: JSONValue], field: String) {
        var body: [String: JSONValue] = ["metric": "connectedDeviceCount", "operator": "LessThan", "threshold": 5,
                                         "window": "5m", "aggregation": "Minimum", "actions": ["log"]]
        body.merge(change) { _, new in new }
        #expect {
            try AlertRule(body: body)
        } throws: { error in
            (error as? HubError)?.message.contains(field) == true
        }
    }
}

@Suite("Reading a device's connection history")
struct ConnectionAnalysisTests {
    func row(_ op: String, _ code: String = "", _ description: String = "", duration: Int64? = nil, at t: Int64,
             keepAlive: Int = 60) -> DiagnosticRow {
        DiagnosticRow(time: t, category: "Connections", operationName: op, level: code.isEmpty ? "Information" : "Error",
                      resultType: code, resultDescription: description, durationMs: duration, deviceId: "d1", moduleId: nil,
                      properties: #"{"protocol":"Mqtt","keepAliveSeconds":\#(keepAlive)}"#)
    }

    @Test("keep-alive expiries are counted with the keep-alive and the usual session length")
    func keepAlive() {
        var rows: [DiagnosticRow] = []
        for i in 0..<3 {
            let t = Int64(i) * 100_000
            rows.append(row("deviceConnect", at: t))
            rows.append(row("deviceDisconnect", "404104", "DeviceConnectionClosedRemotely: no packet within 1.5 × the keep-alive of 60 s",
                            duration: 95_000, at: t + 95_000))
        }
        rows.append(row("deviceConnect", "401003", "IotHubUnauthorized: SAS token expired 30 s ago (se=1)", at: 400_000))
        let analysis = ConnectionAnalysis(records: rows)
        #expect(analysis.connects == 3 && analysis.disconnects == 3)
        #expect(analysis.errors.map(\.code) == [.deviceConnectionClosedRemotely, .iotHubUnauthorized])
        #expect(analysis.errors.map(\.count) == [3, 1])
        let findings = analysis.findings(connectionState: "Disconnected", sinceText: "24h")
        #expect(findings.contains { $0.hasPrefix("keep-alive 60 s; 3 disconnects by keep-alive expiry about every 95 s") && $0.contains("PINGREQ") })
        #expect(findings.contains { $0.contains("401003") && $0.contains("SAS token expired") && $0.contains("clock") })
    }

    @Test("no records: say the device has not tried; clean history: no errors")
    func quiet() {
        #expect(ConnectionAnalysis(records: []).findings(connectionState: nil, sinceText: "24h").first?.hasPrefix("no connection events") == true)
        let clean = ConnectionAnalysis(records: [row("deviceConnect", at: 0), row("deviceDisconnect", "", "the client sent DISCONNECT", duration: 5, at: 5)])
        #expect(clean.findings(connectionState: "Disconnected", sinceText: "1h") == ["no connection errors since 1h"])
    }

    @Test("a disconnect record carries the code name and the specific reason; properties hold who and how")
    func record() throws {
        let r = DiagnosticRecord(time: Date(timeIntervalSince1970: 1), category: .connections, operationName: "deviceDisconnect",
                                 error: .linkCreationConflict, detail: "a new connection with the same client id replaced this one",
                                 durationMs: 10, deviceID: "d1", moduleID: nil, properties: ["protocol": "Mqtt"]).row
        #expect(r.level == "Error" && r.resultType == "409002")
        #expect(r.resultDescription == "LinkCreationConflict: a new connection with the same client id replaced this one")
        let props = try JSONValue(parsing: r.properties)
        #expect(props["deviceId"] == "d1" && props["moduleId"] == .null && props["statusCode"] == "409")
        #expect(ResourceLog.maskedIP("10.1.2.3") == "10.1.2.XXX")
    }
}
