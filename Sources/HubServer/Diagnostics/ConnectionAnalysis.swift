import Foundation
import HubStore
import IoTProtocol
import Twin

/// Reads a device's Connections records the way a person troubleshooting it would: counts per
/// error code, and findings that name a likely cause ("disconnects by keep-alive expiry about
/// every 95 s: the client stops sending PINGREQ").
struct ConnectionAnalysis {
    struct ErrorCount {
        var code: IoTHubErrorCode
        var count: Int
        var last: Int64
        var lastDescription: String
    }

    let records: [DiagnosticRow]

    var connections: [DiagnosticRow] { records.filter { $0.category == DiagnosticCategory.connections.rawValue } }
    var connects: Int { connections.filter { $0.operationName == "deviceConnect" && $0.level != "Error" }.count }
    var disconnects: Int { connections.filter { $0.operationName == "deviceDisconnect" }.count }

    var errors: [ErrorCount] {
        var byCode: [IoTHubErrorCode: ErrorCount] = [:]
        for r in connections where r.level == "Error" {
            guard let raw = Int(r.resultType), let code = IoTHubErrorCode(rawValue: raw) else { continue }
            var entry = byCode[code] ?? ErrorCount(code: code, count: 0, last: r.time, lastDescription: r.resultDescription)
            entry.count += 1
            if r.time >= entry.last { entry.last = r.time; entry.lastDescription = r.resultDescription }
            byCode[code] = entry
        }
        return byCode.values.sorted { ($0.count, $1.code.rawValue) > ($1.count, $0.code.rawValue) }
    }

    func findings(connectionState: String?, sinceText: String) -> [String] {
        let conn = connections
        guard !conn.isEmpty else {
            return ["no connection events since \(sinceText): the device has not tried to connect with this identity "
                    + "(check that it runs, has the right connection string, and reaches the hub on 8883 or 443)"]
        }
        var out: [String] = []
        let disconnects = conn.filter { $0.operationName == "deviceDisconnect" && $0.level == "Error" }
        let keepAlive = disconnects.filter { $0.resultType == "404104" && $0.resultDescription.contains("keep-alive") }
        if !keepAlive.isEmpty {
            let interval = Self.median(keepAlive.compactMap(\.durationMs)).map { "about every \(Self.seconds($0))" } ?? ""
            let setting = Self.mostCommon(keepAlive.compactMap { Self.property($0, "keepAliveSeconds")?.numberValue }).map { "keep-alive \(Int($0)) s; " } ?? ""
            out.append("\(setting)\(keepAlive.count) disconnect\(keepAlive.count == 1 ? "" : "s") by keep-alive expiry \(interval): "
                       + "the client stops sending PINGREQ (a blocked network loop, a suspended process, or a path that drops idle traffic)")
        }
        let dropped = disconnects.filter { $0.resultType == "404104" && !$0.resultDescription.contains("keep-alive") }
        if !dropped.isEmpty {
            let lifetime = Self.median(dropped.compactMap(\.durationMs)).map { "; median session \(Self.seconds($0))" } ?? ""
            out.append("\(dropped.count) connection\(dropped.count == 1 ? "" : "s") ended without an MQTT DISCONNECT\(lifetime): "
                       + "network loss, the device process ending without closing its client, or a NAT or firewall idle timeout")
        }
        let refused = conn.filter { $0.resultType == "401003" }
        if let last = refused.last {
            out.append("\(refused.count) connection attempt\(refused.count == 1 ? "" : "s") refused (401003); last: "
                       + "\(Self.detail(last.resultDescription)) — \(Self.authAdvice(last.resultDescription))")
        }
        let replaced = conn.filter { $0.resultType == "409002" }
        if !replaced.isEmpty {
            out.append("\(replaced.count) time\(replaced.count == 1 ? "" : "s") a new connection replaced an open one (409002): "
                       + "two processes may share this identity, or the device reconnected before the hub saw its old connection drop; look at the errors just before")
        }
        let timeouts = conn.filter { $0.resultType == "500008" }
        if !timeouts.isEmpty {
            out.append("\(timeouts.count) connection\(timeouts.count == 1 ? "" : "s") did not finish TLS and CONNECT in time (500008): "
                       + "check that the client trusts the hub's CA and speaks TLS 1.2, and the network latency")
        }
        let sessions = conn.filter { $0.operationName == "deviceDisconnect" }.compactMap(\.durationMs)
        if connects >= 5, let median = Self.median(sessions), median < 300_000 {
            out.append("flapping: \(connects) connects since \(sinceText) with a median session of \(Self.seconds(median))")
        }
        if out.isEmpty && disconnects.isEmpty {
            out.append("no connection errors since \(sinceText)")
        }
        if connectionState == "Connected" { out.append("connected now") }
        return out
    }

    // MARK: helpers

    static func detail(_ description: String) -> String {
        guard let colon = description.firstIndex(of: ":") else { return description }
        return description[description.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }

    static func authAdvice(_ description: String) -> String {
        let d = description.lowercased()
        if d.contains("expired") { return "check the device's clock (NTP) and that it renews its token (the Azure IoT SDKs do)" }
        if d.contains("signature") { return "the key changed: give the device its current connection string (iothub device connection-string)" }
        if d.contains("unknown") { return "register the identity (iothub device create) or fix the device id in its connection string" }
        if d.contains("disabled") { return "enable the device (iothub device update ID --status enabled) if it should connect" }
        return "check the token's resource (sr=) and the hub name in the connection string"
    }

    static func property(_ row: DiagnosticRow, _ key: String) -> JSONValue? {
        (try? JSONValue(parsing: row.properties))?[key]
    }

    static func median(_ values: [Int64]) -> Int64? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }

    static func mostCommon(_ values: [Double]) -> Double? {
        Dictionary(grouping: values, by: { $0 }).max { $0.value.count < $1.value.count }?.key
    }

    static func seconds(_ ms: Int64) -> String {
        let s = Double(ms) / 1000
        if s < 120 { return "\(Int(s.rounded())) s" }
        if s < 7200 { return "\(Int((s / 60).rounded())) min" }
        return "\(Int((s / 3600).rounded())) h"
    }
}

/// `GET /$outpost/devices/{d}/diagnosis?since=24h`.
struct DiagnosisAPI: Sendable {
    let hub: Hub

    func diagnose(_ device: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        guard let identity = try await hub.store.identity(deviceID: device) else { throw HubError.notFound(device, nil) }
        let sinceText = request.query["since"] ?? "24h"
        let since = try DiagnosticsAPI.sinceMillis(sinceText, parameter: "since")
        let rows = try await hub.store.diagnostics(since: since, deviceID: device)
        let analysis = ConnectionAnalysis(records: rows)
        let errors: [JSONValue] = analysis.errors.map { e in
            .object([
                "resultType": .string(String(e.code.rawValue)), "name": .string(e.code.name), "count": .number(Double(e.count)),
                "last": .string(TwinTime.format(Date(timeIntervalSince1970: Double(e.last) / 1000))),
                "lastDescription": .string(e.lastDescription),
                "rootCause": e.code.rootCause.map(JSONValue.string) ?? .null,
                "resolution": e.code.resolution.map(JSONValue.string) ?? .null,
            ])
        }
        let history: [JSONValue] = analysis.connections.suffix(200).map { r in
            var o: [String: JSONValue] = [
                "time": .string(TwinTime.format(Date(timeIntervalSince1970: Double(r.time) / 1000))),
                "operationName": .string(r.operationName), "level": .string(r.level), "resultType": .string(r.resultType),
                "resultDescription": .string(r.resultDescription),
                "protocol": ConnectionAnalysis.property(r, "protocol") ?? .null,
                "moduleId": r.moduleId.map(JSONValue.string) ?? .null,
            ]
            o["durationMs"] = r.durationMs.map { .number(Double($0)) } ?? .null
            return .object(o)
        }
        return .jsonValue(.object([
            "deviceId": .string(device), "since": .string(TwinTime.format(Date(timeIntervalSince1970: Double(since) / 1000))),
            "registry": .object([
                "status": .string(identity.status), "connectionState": .string(identity.connectionState),
                "connectionStateUpdatedTime": .string(RegistryJSON.time(identity.connectionStateUpdatedTime)),
                "lastActivityTime": .string(RegistryJSON.time(identity.lastActivityTime)),
            ]),
            "connects": .number(Double(analysis.connects)), "disconnects": .number(Double(analysis.disconnects)),
            "errors": .array(errors),
            "findings": .array(analysis.findings(connectionState: identity.connectionState, sinceText: sinceText).map(JSONValue.string)),
            "history": .array(history),
            "diagnosticsEnabled": .bool(hub.diagnostics.setting(.connections).enabled),
        ]))
    }
}
