import IoTProtocol
import Testing

@Suite("Property bags")
struct PropertyBagTests {
    @Test("system keys map to their names, application values are decoded")
    func parse() throws {
        let bag = try PropertyBag(parsing: "%24.mid=abc&%24.ct=application%2Fjson&key=a%20b")
        #expect(bag.system == ["message-id": "abc", "content-type": "application/json"])
        #expect(bag.application == ["key": "a b"])
        #expect(bag.applicationOrder == ["key"])
    }

    @Test("every system key", arguments: PropertyBag.systemKeys.map { [$0.bag, $0.name] })
    func systemKey(_ pair: [String]) throws {
        let bag = try PropertyBag(parsing: Substring("\(PercentEncoding.encode(pair[0]))=v"))
        #expect(bag.system == [pair[1]: "v"])
        #expect(bag.application.isEmpty)
    }

    @Test("an unencoded '$' works too (some clients send $.ct raw)")
    func rawDollar() throws {
        let bag = try PropertyBag(parsing: "$.ct=text%2Fplain&$.ce=utf-8")
        #expect(bag.system == ["content-type": "text/plain", "content-encoding": "utf-8"])
    }

    @Test("application properties keep their order; a repeated key keeps its first place and last value")
    func order() throws {
        let bag = try PropertyBag(parsing: "zeta=1&alpha=2&%24.mid=m&mid=3&alpha=4")
        #expect(bag.applicationOrder == ["zeta", "alpha", "mid"])
        #expect(bag.application == ["zeta": "1", "alpha": "4", "mid": "3"])
        #expect(bag.encoded == "%24.mid=m&zeta=1&alpha=4&mid=3")
    }

    @Test("a pair without '=' is a property with an empty value; empty pairs are skipped")
    func emptyValues() throws {
        let bag = try PropertyBag(parsing: "flag&&x=&y=1&")
        #expect(bag.applicationOrder == ["flag", "x", "y"])
        #expect(bag.application == ["flag": "", "x": "", "y": "1"])
        #expect(try PropertyBag(parsing: "") == PropertyBag())
    }

    @Test("values may contain '=' after the first")
    func equalsInValue() throws {
        #expect(try PropertyBag(parsing: "k=a=b").application == ["k": "a=b"])
    }

    @Test("broken encoding is an error naming the pair")
    func brokenEncoding() {
        #expect(throws: PropertyBag.ParseError.invalidEncoding("k=%zz")) { try PropertyBag(parsing: "ok=1&k=%zz") }
        #expect(throws: PropertyBag.ParseError.invalidEncoding("%=1")) { try PropertyBag(parsing: "%=1") }
    }

    @Test("encoded: system first in the SDKs' order, then application in insertion order")
    func encode() {
        let bag = PropertyBag(system: ["content-type": "application/json", "message-id": "abc"], application: [("key", "a b")])
        #expect(bag.encoded == "%24.mid=abc&%24.ct=application%2Fjson&key=a%20b")
        #expect(PropertyBag().encoded == "")
    }

    @Test("parse(encoded) == bag, for awkward keys and values")
    func roundTrip() throws {
        let bag = PropertyBag(
            system: ["message-id": "id&1=2", "correlation-id": "c/d", "content-encoding": "utf-8", "dt-subject": "é"],
            application: [("a b", "c&d"), ("=", "%"), ("ключ", "值"), ("", "empty key"), ("last", "")])
        let parsed = try PropertyBag(parsing: Substring(bag.encoded))
        #expect(parsed == bag)
        #expect(parsed.applicationOrder == ["a b", "=", "ключ", "", "last"])
    }
}
