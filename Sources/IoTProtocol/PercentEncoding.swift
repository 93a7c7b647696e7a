/// URL percent-encoding as the SDKs apply it (Python's `urllib.parse.quote(s, safe="")`):
/// unreserved characters stay, everything else becomes `%XX` of its UTF-8 bytes.
/// Written here rather than taken from Foundation so that edge binaries need only
/// FoundationEssentials and the fuzzer reaches it without a runtime.
public enum PercentEncoding {
    private static func isUnreserved(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
            || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E
    }

    public static func encode(_ s: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            if isUnreserved(b) { bytes.append(b) } else {
                bytes.append(0x25); bytes.append(hex[Int(b >> 4)]); bytes.append(hex[Int(b & 0xF)])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Decodes `%XX` escapes (and `+` as space when `plusAsSpace`). Returns nil for a broken
    /// escape or bytes that are not UTF-8.
    public static func decode(_ s: Substring, plusAsSpace: Bool = false) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(s.utf8.count)
        var it = s.utf8.makeIterator()
        while let b = it.next() {
            if b == 0x25 {
                guard let h = it.next(), let l = it.next(), let hv = hexValue(h), let lv = hexValue(l) else { return nil }
                bytes.append(hv << 4 | lv)
            } else if b == 0x2B && plusAsSpace {
                bytes.append(0x20)
            } else {
                bytes.append(b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    public static func decode(_ s: String, plusAsSpace: Bool = false) -> String? {
        decode(Substring(s), plusAsSpace: plusAsSpace)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x41 + 10
        case 0x61...0x66: c - 0x61 + 10
        default: nil
        }
    }
}
