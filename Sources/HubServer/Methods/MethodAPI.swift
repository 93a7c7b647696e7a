import Foundation
import IoTProtocol
import NIOCore
import Twin

/// `POST /twins/{d}[/modules/{m}]/methods`: invokes a direct method on a connected client and
/// answers `{status, payload}` with the client's answer.
struct MethodAPI: Sendable {
    let hub: Hub

    static let maxPayloadBytes = 128 * 1024
    static let responseTimeoutRange = 5...300
    static let connectTimeoutRange = 0...300

    func invoke(_ device: String, _ module: String?, _ request: HTTPRequest) async throws -> HTTPResponse {
        let body = try TwinAPI.parseBody(request)
        guard let name = body["methodName"]?.stringValue, !name.isEmpty else {
            throw HubError.argumentInvalid("methodName is missing: send {\"methodName\": \"…\", \"payload\": …}.")
        }
        guard !name.contains("/"), !name.contains("?"), !name.contains("#"), name.utf8.count <= 128 else {
            throw HubError.argumentInvalid("methodName \"\(name)\" is invalid: at most 128 characters, without '/', '?' or '#'.")
        }
        let responseTimeout = try Self.seconds(body["responseTimeoutInSeconds"], "responseTimeoutInSeconds", default: 30, Self.responseTimeoutRange)
        let connectTimeout = try Self.seconds(body["connectTimeoutInSeconds"], "connectTimeoutInSeconds", default: 0, Self.connectTimeoutRange)
        let payload = (body["payload"] ?? .null).jsonText
        guard payload.utf8.count <= Self.maxPayloadBytes else {
            throw HubError.argumentInvalid("The method payload is \(payload.utf8.count) bytes; at most \(Self.maxPayloadBytes) are allowed.")
        }
        guard try await hub.store.identity(deviceID: device, moduleID: module) != nil else {
            throw HubError.notFound(device, module)
        }
        let identity = IdentityID(deviceID: device, moduleID: module)
        let started = Date()
        func log(_ error: HubError?, status: Int? = nil) {
            hub.metrics.increment(error == nil ? .methodSuccess : .methodFailure)
            var properties: [String: JSONValue] = ["methodName": .string(name), "responseTimeoutInSeconds": .number(Double(responseTimeout))]
            if let status { properties["status"] = .number(Double(status)) }
            hub.diagnostics.record(DiagnosticRecord(
                category: .directMethods, operationName: "invoke", error: error?.code, detail: error?.message ?? "",
                durationMs: Int64(Date().timeIntervalSince(started) * 1000), deviceID: device, moduleID: module, properties: properties))
        }
        do {
            let answer = try await hub.methods.invoke(identity, method: name, payload: ByteBuffer(string: payload),
                                                      responseTimeout: .seconds(responseTimeout),
                                                      connectTimeout: .seconds(connectTimeout))
            log(nil, status: answer.status)
            return .jsonValue(.object(["status": .number(Double(answer.status)), "payload": Self.payloadValue(answer.payload)]))
        } catch MethodDispatcher.Failure.notOnline {
            let error = HubError(.deviceNotOnline, "\(identity) is not connected and listening for direct methods (waited \(connectTimeout) s: set connectTimeoutInSeconds to wait longer).")
            log(error)
            throw error
        } catch MethodDispatcher.Failure.timedOut {
            let error = HubError(.gatewayTimeout, "\(identity) did not answer method '\(name)' within \(responseTimeout) s.")
            log(error)
            throw error
        }
    }

    /// A JSON answer is passed through; an empty one is null; anything else is kept as a string.
    static func payloadValue(_ buffer: ByteBuffer) -> JSONValue {
        guard buffer.readableBytes > 0 else { return .null }
        let data = Data(buffer.readableBytesView)
        return (try? JSONValue(parsing: data)) ?? .string(String(decoding: data, as: UTF8.self))
    }

    private static func seconds(_ value: JSONValue?, _ name: String, default fallback: Int, _ range: ClosedRange<Int>) throws -> Int {
        guard let value, value != .null else { return fallback }
        guard let n = value.numberValue, n == n.rounded(), range.contains(Int(n)) else {
            throw HubError.argumentInvalid("\(name) must be a whole number of seconds from \(range.lowerBound) to \(range.upperBound).")
        }
        return Int(n)
    }
}
