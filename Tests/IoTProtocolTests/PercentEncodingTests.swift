import IoTProtocol
import Testing

@Suite("Percent-encoding")
struct PercentEncodingTests {
    // Expected values from Python: python3 -c "import urllib.parse; print(urllib.parse.quote(S, safe=''))"
    @Test("encode matches Python's urllib.parse.quote(s, safe='')", arguments: [
        ("a b/c?d=e&f~g_h.i-j", "a%20b%2Fc%3Fd%3De%26f~g_h.i-j"),
        ("é€😀", "%C3%A9%E2%82%AC%F0%9F%98%80"),
        ("+%", "%2B%25"),
        ("$.mid", "%24.mid"),
        ("application/json", "application%2Fjson"),
        ("azure-iot-device-iothub-py/2.14.0(3.11.7;Linux;x86_64)", "azure-iot-device-iothub-py%2F2.14.0%283.11.7%3BLinux%3Bx86_64%29"),
        ("", ""),
        ("AZaz09-._~", "AZaz09-._~"),
    ])
    func encode(plain: String, encoded: String) {
        #expect(PercentEncoding.encode(plain) == encoded)
        #expect(PercentEncoding.decode(encoded) == plain)
    }

    @Test("decode accepts lower-case hex and leaves unescaped characters alone")
    func decodeForms() {
        #expect(PercentEncoding.decode("%c3%a9") == "é")
        #expect(PercentEncoding.decode("a+b") == "a+b")
        #expect(PercentEncoding.decode("a+b", plusAsSpace: true) == "a b")
        #expect(PercentEncoding.decode("%2B", plusAsSpace: true) == "+")
        #expect(PercentEncoding.decode("$.mid=1") == "$.mid=1")
        #expect(PercentEncoding.decode("é") == "é")
    }

    @Test("broken escapes and non-UTF-8 bytes give nil", arguments: ["%", "%4", "abc%", "%GG", "%4G", "%G4", "%%41", "%FF", "%C3", "%C3%28", "%ED%A0%80"])
    func broken(_ text: String) {
        #expect(PercentEncoding.decode(text) == nil)
    }

    @Test("decode(encode(s)) == s for every character class")
    func roundTrip() {
        var all = ""
        for scalar in (0x01...0x7F).compactMap(Unicode.Scalar.init) { all.unicodeScalars.append(scalar) }
        all += "éß€ユ😀\u{0301}\u{10FFFF}"
        #expect(PercentEncoding.decode(PercentEncoding.encode(all)) == all)
        #expect(PercentEncoding.encode(all).allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-._~%".contains($0)) })
    }
}
