import Foundation
import Testing
@testable import Twin

@Suite("Twin state: merge patches, versions, metadata and limits")
struct TwinStateTests {
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)
    let t1 = Date(timeIntervalSince1970: 1_700_000_100)

    @Test("a fresh twin has version 1, sections at $version 1 and the ETag of version 1")
    func fresh() {
        let twin = TwinState()
        #expect(twin.version == 1)
        #expect(twin.etag == "AAAAAAAAAAE=")
        #expect(twin.deviceView == ["desired": ["$version": 1], "reported": ["$version": 1]])
    }

    @Test("a desired patch merges, removes on null, bumps both versions and returns the push")
    func desiredPatch() throws {
        var twin = TwinState()
        let first = try twin.patchDesired(["a": 1, "obj": ["x": "1", "y": "2"]], at: t0)
        #expect(first == ["a": 1, "obj": ["x": "1", "y": "2"], "$version": 2])
        let second = try twin.patchDesired(["a": nil, "obj": ["y": nil, "z": true]], at: t1)
        #expect(second == ["a": nil, "obj": ["y": nil, "z": true], "$version": 3])
        #expect(twin.desired.values == ["obj": ["x": "1", "z": true]])
        #expect(twin.version == 3)
        #expect(twin.etag != TwinState().etag)
    }

    @Test("metadata records when and in which version each property changed")
    func metadata() throws {
        var twin = TwinState()
        _ = try twin.patchDesired(["obj": ["x": 1, "y": 2]], at: t0)
        _ = try twin.patchDesired(["obj": ["y": 3]], at: t1)
        let meta = JSONValue.object(twin.desired.metadata)
        #expect(meta.value(at: ["$lastUpdatedVersion"]) == 3)
        #expect(meta.value(at: ["obj", "x", "$lastUpdatedVersion"]) == 2)
        #expect(meta.value(at: ["obj", "y", "$lastUpdatedVersion"]) == 3)
        #expect(meta.value(at: ["obj", "y", "$lastUpdated"]) == .string(TwinTime.format(t1)))
        #expect(meta.value(at: ["obj", "$lastUpdated"]) == .string(TwinTime.format(t1)))
        _ = try twin.patchDesired(["obj": nil], at: t1)
        #expect(twin.desired.metadata["obj"] == nil)
    }

    @Test("reported patches carry no $lastUpdatedVersion and return the new reported version")
    func reported() throws {
        var twin = TwinState()
        #expect(try twin.patchReported(["temp": 21.5], at: t0) == 2)
        #expect(try twin.patchReported(["temp": 22], at: t1) == 3)
        #expect(twin.reported.values == ["temp": 22])
        #expect(twin.reported.metadata["temp"]?["$lastUpdatedVersion"] == nil)
        #expect(twin.desired.version == 1)
        #expect(twin.version == 3)
    }

    @Test("replacing desired properties names the removed ones with null in the push")
    func replaceDesired() throws {
        var twin = TwinState()
        _ = try twin.patchDesired(["a": 1, "b": 2], at: t0)
        let push = try twin.replaceDesired(["b": 5, "c": 6], at: t1)
        #expect(push == ["a": nil, "b": 5, "c": 6, "$version": 3])
        #expect(twin.desired.values == ["b": 5, "c": 6])
    }

    @Test("tags merge and replace without touching properties; an unchanged replace keeps the version")
    func tags() throws {
        var twin = TwinState()
        try twin.patchTags(["site": ["floor": 1], "team": "a"])
        try twin.patchTags(["site": ["room": "b"], "team": nil])
        #expect(twin.tags == ["site": ["floor": 1, "room": "b"]])
        #expect(twin.version == 3)
        try twin.replaceTags(["site": ["floor": 1, "room": "b"]])
        #expect(twin.version == 3)
        try twin.replaceTags([:])
        #expect(twin.tags.isEmpty)
        #expect(twin.desired.version == 1)
    }

    @Test("read-only $version and $metadata sent back by a client are ignored; an empty desired patch changes nothing")
    func readOnlyKeys() throws {
        var twin = TwinState()
        #expect(try twin.patchDesired(["$version": 7, "$metadata": [:]], at: t0) == nil)
        #expect(twin.version == 1)
    }

    @Test("names with '.', '$', spaces or control characters are refused, at any depth",
          arguments: ["a.b", "$x", "a b", "tab\there", ""])
    func badNames(name: String) {
        var twin = TwinState()
        #expect(throws: TwinRules.Violation.self) { try twin.patchReported(["ok": .object([name: 1])], at: t0) }
        #expect(twin == TwinState())
    }

    @Test("a section over 32 KiB is refused and the twin is unchanged")
    func sizeLimit() throws {
        var twin = TwinState()
        let big = String(repeating: "x", count: 20_000)
        _ = try twin.patchReported(["a": .string(big)], at: t0)
        let before = twin
        #expect(throws: TwinRules.Violation.self) { try twin.patchReported(["b": .string(big)], at: t1) }
        #expect(twin == before)
        #expect(throws: TwinRules.Violation.self) { try twin.patchTags(["t": .string(String(repeating: "y", count: 9000))]) }
    }

    @Test("objects nested deeper than 10 levels are refused; 10 levels are fine")
    func depthLimit() throws {
        func nested(_ levels: Int) -> JSONValue {
            var v: JSONValue = 1
            for _ in 0..<levels { v = ["n": v] }
            return v
        }
        var twin = TwinState()
        _ = try twin.patchDesired(["root": nested(9)], at: t0)
        #expect(throws: TwinRules.Violation.self) { _ = try twin.patchDesired(["root": nested(10)], at: t0) }
    }

    @Test("the state survives a JSON round trip (how the store keeps it)")
    func codable() throws {
        var twin = TwinState()
        try twin.patchTags(["a": [1, "two", nil, ["x": false]]])
        _ = try twin.patchDesired(["d": 1.25], at: t0)
        let data = try JSONEncoder().encode(twin)
        #expect(try JSONDecoder().decode(TwinState.self, from: data) == twin)
    }
}

@Suite("JSON values")
struct JSONValueTests {
    @Test("parse and write back: integers stay integers, keys sorted, strings escaped")
    func roundTrip() throws {
        let v = try JSONValue(parsing: #"{"b":[1,2.5,true,null],"a":"q\"\n\u0001"}"#)
        #expect(v.jsonText == #"{"a":"q\"\n\u0001","b":[1,2.5,true,null]}"#)
        #expect(try JSONValue(parsing: "42") == 42)
        #expect(try JSONValue(parsing: "true") == true)
    }

    @Test("invalid JSON is a ParseError that says why", arguments: ["{", "{\"a\":}", "nul", ""])
    func invalid(text: String) {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: text) }
    }

    @Test("depth counts objects and arrays")
    func depth() {
        #expect(JSONValue.number(1).depth == 0)
        #expect(JSONValue.object([:]).depth == 1)
        #expect((["a": ["b": [1]]] as JSONValue).depth == 3)
    }
}
