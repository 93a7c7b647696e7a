import Foundation
import HubStore
import NIOCore
import Twin

/// The telemetry hot path's JSON, written by hand: a profile of the fan-in (BENCHMARKS.md) spent
/// 36 % of the hub's CPU in JSONSerialization for the property objects of each stored message
/// and 19 % re-serialising each event for the events endpoint. The output is the same JSON.
enum TelemetryJSON {
    /// `{"k":"v",…}` with keys in code-point order, as `JSONValue.jsonText` writes objects.
    static func object(_ dict: [String: String]) -> String {
        if dict.isEmpty { return "{}" }
        var out = "{"
        out.reserveCapacity(dict.count * 48)
        for (i, key) in dict.keys.sorted().enumerated() {
            if i > 0 { out += "," }
            appendString(key, to: &out)
            out += ":"
            appendString(dict[key]!, to: &out)
        }
        out += "}"
        return out
    }

    static func appendString(_ s: String, to out: inout String) { JSONValue.appendQuoted(s, to: &out) }

    /// One event of the events endpoint as an NDJSON line: the object `TelemetryMessage.json`
    /// describes, with the stored property objects spliced in rather than parsed and re-written.
    /// `iothub-enqueuedtime` is added as the last member of `systemProperties`.
    static func writeEventLine(_ r: TelemetryRecord, into out: inout ByteBuffer) {
        writeEventLine(r, enqueued: TelemetryMessage.iso8601(milliseconds: r.enqueuedTime), into: &out)
    }

    /// Lines for a run of events. A stored batch shares one enqueued time, so its text is made
    /// once per run of equal times rather than per message (2 % of the fan-in profile).
    static func writeEventLines(_ records: [TelemetryRecord], into out: inout ByteBuffer) {
        var lastTime: Int64 = -1
        var lastText = ""
        for r in records {
            if r.enqueuedTime != lastTime {
                lastTime = r.enqueuedTime
                lastText = TelemetryMessage.iso8601(milliseconds: r.enqueuedTime)
            }
            writeEventLine(r, enqueued: lastText, into: &out)
        }
    }

    private static func writeEventLine(_ r: TelemetryRecord, enqueued: String, into out: inout ByteBuffer) {
        out.writeStaticString(#"{"body":"#)
        let written = r.body.withUnsafeBytes { raw in
            // ASCII is valid UTF-8: no String is made for the most common bodies.
            guard !raw.contains(where: { $0 >= 0x80 }) else { return false }
            writeQuoted(utf8: raw, into: &out)
            return true
        }
        if !written {
            if var text = String(validating: r.body, as: UTF8.self) {
                text.withUTF8 { writeQuoted(utf8: UnsafeRawBufferPointer($0), into: &out) }
            } else {
                out.writeString("\"" + r.body.base64EncodedString() + #"","bodyEncoding":"base64""#)
            }
        }
        out.writeStaticString(#","deviceId":"#)
        var deviceID = r.deviceId
        deviceID.withUTF8 { writeQuoted(utf8: UnsafeRawBufferPointer($0), into: &out) }
        out.writeStaticString(#","enqueuedTime":""#)
        out.writeString(enqueued)
        out.writeStaticString(#"","moduleId":"#)
        if var m = r.moduleId {
            m.withUTF8 { writeQuoted(utf8: UnsafeRawBufferPointer($0), into: &out) }
        } else {
            out.writeStaticString("null")
        }
        out.writeStaticString(#","properties":"#)
        writeObject(r.properties, into: &out)
        out.writeStaticString(#","sequenceNumber":"#)
        out.writeString(String(r.sequenceNumber ?? 0))
        out.writeStaticString(#","systemProperties":"#)
        // The stored object without its closing brace, then the enqueued time as its last member.
        let mark = out.writerIndex
        writeObject(r.systemProperties, into: &out)
        out.moveWriterIndex(to: out.writerIndex - 1)
        if out.writerIndex - mark > 1 { out.writeStaticString(",") }
        out.writeStaticString(#""iothub-enqueuedtime":""#)
        out.writeString(enqueued)
        out.writeStaticString("\"}}\n")
    }

    /// Valid UTF-8 as a JSON string, escaped by `JSONValue.writeQuoted` straight into the buffer:
    /// building Strings for each event's fields was most of the events line's cost.
    static func writeQuoted(utf8 bytes: UnsafeRawBufferPointer, into out: inout ByteBuffer) {
        JSONValue.writeQuoted(utf8: bytes) { out.writeBytes($0) }
    }

    /// A stored object's text, or `{}` if it is not an object (as `parseObject` would give).
    private static func writeObject(_ s: String, into out: inout ByteBuffer) {
        let u = s.utf8
        if u.first == UInt8(ascii: "{"), u.last == UInt8(ascii: "}") { out.writeString(s) } else { out.writeStaticString("{}") }
    }

    /// `2026-11-25T10:24:31.903Z` from milliseconds since 1970, without a formatter: days to
    /// civil date after Howard Hinnant's algorithm (http://howardhinnant.github.io/date_algorithms.html).
    static func iso8601(milliseconds ms: Int64) -> String? {
        guard ms >= 0 else { return nil }
        let days = ms / 86_400_000, msOfDay = ms % 86_400_000
        let z = days + 719_468
        let era = z / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        guard year <= 9999 else { return nil }
        func pad(_ n: Int64, _ width: Int) -> String {
            let s = String(n)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(msOfDay / 3_600_000, 2) + ":"
            + pad(msOfDay / 60_000 % 60, 2) + ":" + pad(msOfDay / 1000 % 60, 2) + "." + pad(msOfDay % 1000, 3) + "Z"
    }
}
