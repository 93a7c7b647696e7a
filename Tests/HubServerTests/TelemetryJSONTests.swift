import Foundation
import HubStore
@testable import HubServer
import NIOCore
import Testing
import Twin

/// The hand-written telemetry JSON must say what JSONSerialization said before it.
@Suite struct TelemetryJSONTests {
    @Test func propertyObjectsParseBackToTheirDictionary() throws {
        let dicts: [[String: String]] = [[:], ["b": "2", "a": "1"], ["quote\"": "back\\slash", "ctl": "tab\tnl\n\u{01}", "ü": "€/😀"]]
        for dict in dicts {
            let text = TelemetryJSON.object(dict)
            let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String]
            #expect(parsed == dict, "\(text)")
        }
        #expect(TelemetryJSON.object(["b": "2", "a": "1"]) == #"{"a":"1","b":"2"}"#)
    }

    @Test func iso8601MatchesTheFormatter() {
        for ms: Int64 in [0, 1, 999, 951_782_400_000, 1_709_164_800_123, 1_795_000_000_456, 4_102_444_799_999, 253_402_300_799_999] {
            // Half a millisecond in: the formatter truncates, and 0.999 s as a Double is 0.998999….
            let date = Date(timeIntervalSince1970: (Double(ms) + 0.5) / 1000)
            let expected = date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
            #expect(TelemetryJSON.iso8601(milliseconds: ms) == expected)
        }
        #expect(TelemetryJSON.iso8601(milliseconds: 1_709_164_800_999) == "2024-02-29T00:00:00.999Z")
        #expect(TelemetryJSON.iso8601(milliseconds: -1) == nil)
    }

    @Test(arguments: [Data("hello \"world\"\n".utf8), Data([0xFF, 0x00, 0x80])])
    func eventLineHasTheFieldsOfTheEventObject(body: Data) throws {
        let record = TelemetryRecord(sequenceNumber: 42, deviceId: "dev/1", moduleId: nil, enqueuedTime: 1_709_164_800_123, body: body,
                                     properties: TelemetryJSON.object(["alert": "true"]),
                                     systemProperties: TelemetryJSON.object(["iothub-connection-device-id": "dev/1", "message-id": "m1"]))
        var buffer = ByteBuffer()
        TelemetryJSON.writeEventLine(record, into: &buffer)
        let line = String(buffer: buffer)
        #expect(line.hasSuffix("}\n"))
        let written = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? NSDictionary
        let expected = NSDictionary(dictionary: TelemetryMessage.json(record))
        #expect(written == expected)
    }

    @Test("a run of lines is the lines one by one, with each record's own enqueued time")
    func runOfLinesMatchesSingleLines() {
        let times: [Int64] = [1_709_164_800_123, 1_709_164_800_123, 1_709_164_801_000, 1_709_164_800_123]
        let records = times.enumerated().map { i, t in
            TelemetryRecord(sequenceNumber: Int64(i + 1), deviceId: "d", moduleId: "m", enqueuedTime: t, body: Data("\(i)".utf8),
                            properties: "{}", systemProperties: TelemetryJSON.object(["message-id": "m\(i)"]))
        }
        var run = ByteBuffer(), single = ByteBuffer()
        TelemetryJSON.writeEventLines(records, into: &run)
        for r in records { TelemetryJSON.writeEventLine(r, into: &single) }
        #expect(String(buffer: run) == String(buffer: single))
        #expect(String(buffer: run).contains("2024-02-29T00:00:01.000Z"))
    }

    @Test("strings written from bytes are the text appendQuoted makes", arguments: [
        "", "plain ascii {\"t\":1}", "quote \" backslash \\ newline \n tab \t cr \r", "ctl \u{1} \u{1f} \u{7f}",
        "caf\u{e9} \u{1F600} \u{65}\u{301}", "\u{0}",
    ])
    func quotedFromBytes(text: String) {
        var expected = ""
        JSONValue.appendQuoted(text, to: &expected)
        var buffer = ByteBuffer()
        var copy = text
        copy.withUTF8 { TelemetryJSON.writeQuoted(utf8: UnsafeRawBufferPointer($0), into: &buffer) }
        #expect(String(buffer: buffer) == expected)
    }
}
