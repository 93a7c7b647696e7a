import IoTProtocol
import Testing

@Suite("Identity ids")
struct IdentityIDTests {
    @Test("1 to 128 characters")
    func length() {
        #expect(IdentityID.isValid(String(repeating: "a", count: 128)))
        #expect(!IdentityID.isValid(String(repeating: "a", count: 129)))
        #expect(IdentityID.isValid("a"))
        #expect(!IdentityID.isValid(""))
    }

    @Test("every allowed punctuation character is accepted", arguments: Array("-.+%_#*?!(),:=@$'"))
    func punctuation(_ c: Character) {
        #expect(IdentityID.isValid("dev\(c)1"))
        #expect(IdentityID.isValid(String(c)))
    }

    @Test("'/', space and other characters are rejected", arguments: ["a/b", "a b", "a\tb", "é", "a\"b", "a;b", "a&b", "a\\b", "a<b", "a{b", "a|b", "a~b", "a^b", "a`b", "a\u{0}b"])
    func rejected(_ id: String) {
        #expect(!IdentityID.isValid(id))
    }

    @Test("client ids: device, device/module, and what is neither")
    func clientIDs() {
        #expect(IdentityID(clientID: "dev1") == IdentityID(deviceID: "dev1"))
        #expect(IdentityID(clientID: "dev1/mod1") == IdentityID(deviceID: "dev1", moduleID: "mod1"))
        #expect(IdentityID(clientID: "dev1/mod1")?.clientID == "dev1/mod1")
        #expect(IdentityID(clientID: "dev1/mod1")?.description == "dev1/mod1")
        for bad in ["", "/", "dev1/", "/mod1", "a/b/c", "dev 1", String(repeating: "x", count: 129), "d/" + String(repeating: "m", count: 129)] {
            #expect(IdentityID(clientID: bad) == nil, "\(bad)")
        }
        #expect(IdentityID(clientID: String(repeating: "x", count: 128) + "/" + String(repeating: "m", count: 128)) != nil)
    }

    @Test("the token resource of a device and of a module")
    func resource() {
        #expect(IdentityID(deviceID: "d").resource(host: "h.example") == "h.example/devices/d")
        #expect(IdentityID(deviceID: "d", moduleID: "m").resource(host: "h.example") == "h.example/devices/d/modules/m")
    }
}
