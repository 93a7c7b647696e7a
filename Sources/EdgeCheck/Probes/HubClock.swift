import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL

/// The hub's clock, read from an HTTPS answer: the `Date` header when it sends one (Azure
/// does), else the `TimeStamp:` IoT Hub writes into every error body ("Tracking ID:…-G:0-
/// TimeStamp:…"), which Outpost's hub writes too. An unauthenticated GET gets such an error.
public enum HubClock {
    public struct Reading: Equatable, Sendable {
        /// The hub's time, seconds since 1970.
        public var hubTime: Double
        /// Our time halfway through the request, to cancel the network's delay.
        public var localTime: Double
        /// Where the time came from: "Date header" or "error TimeStamp".
        public var source: String
        /// How far the reading may be off: half the round trip plus the source's resolution.
        public var uncertainty: Double

        /// Positive when this host is ahead of the hub.
        public var skew: Double { localTime - hubTime }
    }

    public static func read(host: String, port: Int, trustPEM: String?, timeout: Double) async -> Result<Reading, ProbeError> {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let trustPEM, let certs = try? NIOSSLCertificate.fromPEMBytes(Array(trustPEM.utf8)) { tls.trustRoots = .certificates(certs) }
        var config = HTTPClient.Configuration(tlsConfiguration: tls)
        config.timeout = .init(connect: .milliseconds(Int64(timeout * 1000)), read: .milliseconds(Int64(timeout * 1000)))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        let result = await read(client, host: host, port: port, timeout: timeout)
        try? await client.shutdown()
        return result
    }

    private static func read(_ client: HTTPClient, host: String, port: Int, timeout: Double) async -> Result<Reading, ProbeError> {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let request = HTTPClientRequest(url: "https://\(hostPart):\(port)/devices?api-version=2021-04-12")
        let sent = Date().timeIntervalSince1970
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            let body = String(buffer: try await response.body.collect(upTo: 64 << 10))
            let received = Date().timeIntervalSince1970
            let local = (sent + received) / 2
            let halfTrip = (received - sent) / 2
            if let date = response.headers.first(name: "Date").flatMap(parseHTTPDate) {
                return .success(Reading(hubTime: date, localTime: local, source: "Date header", uncertainty: halfTrip + 1))
            }
            if let stamp = timeStamp(inBody: body) {
                return .success(Reading(hubTime: stamp, localTime: local, source: "error TimeStamp", uncertainty: halfTrip + 1))
            }
            return .failure(ProbeError("the hub's answer (HTTP \(response.status.code)) carries neither a Date header nor a TimeStamp"))
        } catch {
            return .failure(ProbeError("HTTPS request to \(host):\(port) failed: \(error)"))
        }
    }

    /// RFC 7231's IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
    public static func parseHTTPDate(_ text: String) -> Double? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return f.date(from: text.trimmingCharacters(in: .whitespaces))?.timeIntervalSince1970
    }

    /// The time after "TimeStamp:" in an IoT Hub error body: ISO 8601 (Outpost's hub) or
    /// Azure's "MM/dd/yyyy HH:mm:ss" (UTC).
    public static func timeStamp(inBody body: String) -> Double? {
        guard let range = body.range(of: "TimeStamp:") else { return nil }
        let rest = body[range.upperBound...]
        let text = String(rest.prefix { $0 != "\"" && $0 != "," && $0 != "}" }).trimmingCharacters(in: .whitespaces)
        if let d = try? Date(text, strategy: Date.ISO8601FormatStyle()) { return d.timeIntervalSince1970 }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "MM/dd/yyyy HH:mm:ss"
        return f.date(from: text)?.timeIntervalSince1970
    }
}
