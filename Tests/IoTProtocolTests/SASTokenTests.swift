import IoTProtocol
import Testing

@Suite("SAS tokens")
struct SASTokenTests {
    // Known answer, computed independently with the Azure SDK's rule (azure-iot-device's
    // SasToken: string to sign = quote(resource, safe='') + "\n" + expiry; sig = base64 HMAC-SHA256
    // under the base64-decoded key; the token url-encodes sig with safe=''):
    //   python3 -c "import hmac,hashlib,base64,urllib.parse; key='MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY='; res='myhub.azure-devices.net/devices/dev1'; exp=1700000000; sr=urllib.parse.quote(res,safe=''); sig=base64.b64encode(hmac.new(base64.b64decode(key),(sr+'\n'+str(exp)).encode(),hashlib.sha256).digest()).decode(); print('SharedAccessSignature sr='+sr+'&sig='+urllib.parse.quote(sig,safe='')+'&se='+str(exp))"
    static let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
    static let resource = "myhub.azure-devices.net/devices/dev1"
    static let expiry: Int64 = 1_700_000_000
    static let signature = "wosmA3uJK9T0mdB5CIYn+sAVA2ODflnucuvNO5S6mbM="
    static let token = "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=wosmA3uJK9T0mdB5CIYn%2BsAVA2ODflnucuvNO5S6mbM%3D&se=1700000000"

    // A module token signed with a policy key, same rule:
    //   python3 -c "import hmac,hashlib,base64,urllib.parse; key='c2VjcmV0LXBvbGljeS1rZXktZm9yLXRlc3RzIQ=='; res='myhub.azure-devices.net/devices/dev1/modules/mod1'; exp=4102444800; sr=urllib.parse.quote(res,safe=''); print(base64.b64encode(hmac.new(base64.b64decode(key),(sr+'\n'+str(exp)).encode(),hashlib.sha256).digest()).decode())"
    static let policyKey = "c2VjcmV0LXBvbGljeS1rZXktZm9yLXRlc3RzIQ=="
    static let moduleSignature = "cE5x4YdEETdBlNWBa9FgRsQ5QCBFnjQzgHWNcWlzg7M="

    @Test("building a token gives exactly the Azure SDK's token (known answer)")
    func knownAnswer() throws {
        let token = try #require(SASToken(resource: Self.resource, key: Self.key, expiry: Self.expiry))
        #expect(token.signature == Self.signature)
        #expect(token.encodedResource == "myhub.azure-devices.net%2Fdevices%2Fdev1")
        #expect(token.text == Self.token)
        #expect(SASToken.sign(encodedResource: "myhub.azure-devices.net%2Fdevices%2Fdev1", expiry: Self.expiry, base64Key: Self.key) == Self.signature)
    }

    @Test("a module token with skn (known answer)")
    func moduleKnownAnswer() throws {
        let token = try #require(SASToken(resource: "myhub.azure-devices.net/devices/dev1/modules/mod1", key: Self.policyKey,
                                          expiry: 4_102_444_800, keyName: "iothubowner"))
        #expect(token.signature == Self.moduleSignature)
        #expect(token.text == "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1%2Fmodules%2Fmod1"
            + "&sig=cE5x4YdEETdBlNWBa9FgRsQ5QCBFnjQzgHWNcWlzg7M%3D&se=4102444800&skn=iothubowner")
    }

    @Test("the SDK's token parses and verifies with the device key")
    func parseAndVerify() throws {
        let token = try SASToken(parsing: Self.token)
        #expect(token.encodedResource == "myhub.azure-devices.net%2Fdevices%2Fdev1")
        #expect(token.resource == Self.resource)
        #expect(token.signature == Self.signature)
        #expect(token.expiry == Self.expiry)
        #expect(token.keyName == nil)
        #expect(token.isSigned(withBase64Key: Self.key))
        #expect(try SASToken(parsing: token.text) == token)
    }

    @Test("fields may come in any order, skn is url-decoded")
    func fieldOrder() throws {
        let token = try SASToken(parsing: "SharedAccessSignature se=4102444800&skn=my%20policy&sig=\(PercentEncoding.encode(Self.moduleSignature))&sr=myhub.azure-devices.net%2Fdevices%2Fdev1%2Fmodules%2Fmod1")
        #expect(token.keyName == "my policy")
        #expect(token.isSigned(withBase64Key: Self.policyKey))
    }

    @Test("a wrong key, a tampered expiry or resource, or an invalid key does not verify")
    func wrongKey() throws {
        let token = try SASToken(parsing: Self.token)
        #expect(!token.isSigned(withBase64Key: Self.policyKey))
        #expect(!token.isSigned(withBase64Key: "not base64!"))
        var later = token
        later.expiry += 3600
        #expect(!later.isSigned(withBase64Key: Self.key))
        var other = token
        other.encodedResource = "myhub.azure-devices.net%2Fdevices%2Fdev2"
        #expect(!other.isSigned(withBase64Key: Self.key))
        let tampered = try SASToken(parsing: String(Self.token.dropLast()) + "1")
        #expect(!tampered.isSigned(withBase64Key: Self.key))
    }

    @Test("round trip: build, print, parse, verify, for resources needing encoding")
    func roundTrip() throws {
        for resource in ["h/devices/d", "h.example/devices/a b+c/modules/m(1)", "hub/devices/é€"] {
            let built = try #require(SASToken(resource: resource, key: Self.key, expiry: 42))
            let parsed = try SASToken(parsing: built.text)
            #expect(parsed == built)
            #expect(parsed.resource == resource)
            #expect(parsed.isSigned(withBase64Key: Self.key))
        }
    }

    @Test("expiry: a token is expired at its expiry second and after")
    func expiry() throws {
        let token = try SASToken(parsing: Self.token)
        #expect(!token.isExpired(now: Self.expiry - 1))
        #expect(token.isExpired(now: Self.expiry))
        #expect(token.isExpired(now: Self.expiry + 1))
    }

    @Test("a key that is not base64 makes no token")
    func badKey() {
        #expect(SASToken(resource: "h/devices/d", key: "%%%", expiry: 1) == nil)
        #expect(SASToken.sign(encodedResource: "x", expiry: 1, base64Key: "%%%") == nil)
    }

    @Test("parse errors", arguments: [
        ("Bearer abc", SASToken.ParseError.notASharedAccessSignature),
        ("sr=a&sig=b&se=1", .notASharedAccessSignature),
        ("SharedAccessSignature sig=b&se=1", .missingField("sr")),
        ("SharedAccessSignature sr=a&se=1", .missingField("sig")),
        ("SharedAccessSignature sr=a&sig=b", .missingField("se")),
        ("SharedAccessSignature sr=a&sig=b&se=soon", .invalidExpiry("soon")),
        ("SharedAccessSignature sr=a&sig=b&se=", .invalidExpiry("")),
        ("SharedAccessSignature sr=a&sig=%ZZ&se=1", .invalidEncoding("sig")),
        ("SharedAccessSignature sr=a%2&sig=b&se=1", .invalidEncoding("sr")),
    ])
    func parseErrors(text: String, error: SASToken.ParseError) {
        #expect(throws: error) { try SASToken(parsing: text) }
    }

    @Test("generated keys are 32 random bytes in base64 and valid")
    func generatedKeys() {
        let a = SymmetricKeyGenerator.make(), b = SymmetricKeyGenerator.make()
        #expect(a != b)
        #expect(a.count == 44)
        #expect(SymmetricKeyGenerator.isValid(a))
        #expect(!SymmetricKeyGenerator.isValid("c2hvcnQ="))            // 5 bytes
        #expect(SymmetricKeyGenerator.isValid("MDEyMzQ1Njc4OWFiY2RlZg==")) // 16 bytes
        #expect(!SymmetricKeyGenerator.isValid("not base64"))
    }
}
