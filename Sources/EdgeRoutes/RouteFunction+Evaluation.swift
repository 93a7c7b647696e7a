#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The C library's `exp`, out of reach by that name inside `RouteFunction`, which has a case `.exp`.
private func naturalExponent(_ x: Double) -> Double { exp(x) }

extension RouteFunction {
    /// The function over evaluated arguments. An argument of the wrong type at run time (a
    /// `$body` value, or undefined) makes the result undefined, except for the type checks.
    func apply(_ arguments: [RouteValue]) -> RouteValue {
        let first = arguments.first ?? .undefined
        switch self {
        case .isDefined: return .bool(first.isDefined)
        case .isNull: return .bool(first == .null)
        case .isString: if case .string = first { return .bool(true) } else { return .bool(false) }
        case .isNumber: if case .number = first { return .bool(true) } else { return .bool(false) }
        case .isBool: if case .bool = first { return .bool(true) } else { return .bool(false) }
        case .asNumber:
            switch first {
            case .number: return first
            case .string(let s): return Self.number(from: s).map(RouteValue.number) ?? .undefined
            default: return .undefined
            }
        case .startsWith, .endsWith, .contains, .indexOf:
            guard case .string(let s) = first, arguments.count > 1, case .string(let part) = arguments[1] else { return .undefined }
            return stringTest(s, part)
        case .lower, .upper, .length:
            guard case .string(let s) = first else { return .undefined }
            if self == .length { return .number(Double(s.utf16.count)) }
            return .string(self == .lower ? s.lowercased() : s.uppercased())
        case .concat:
            var result = ""
            for argument in arguments {
                guard case .string(let s) = argument else { return .undefined }
                result += s
            }
            return .string(result)
        case .substring:
            return substring(arguments)
        case .abs, .ceiling, .floor, .sign, .sqrt, .exp, .square, .power:
            var numbers: [Double] = []
            for argument in arguments {
                guard case .number(let x) = argument else { return .undefined }
                numbers.append(x)
            }
            return .number(math(numbers))
        }
    }

    private func stringTest(_ s: String, _ part: String) -> RouteValue {
        let haystack = Array(s.utf16), needle = Array(part.utf16)
        switch self {
        case .startsWith: return .bool(haystack.starts(with: needle))
        case .endsWith: return .bool(haystack.reversed().starts(with: needle.reversed()))
        case .contains: return .bool(Self.firstIndex(of: needle, in: haystack) != nil)
        default: return .number(Double(Self.firstIndex(of: needle, in: haystack) ?? -1))
        }
    }

    /// Ordinal search in UTF-16 units, as .NET's `IndexOf(…, Ordinal)`.
    static func firstIndex(of needle: [UInt16], in haystack: [UInt16]) -> Int? {
        if needle.isEmpty { return 0 }
        guard needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start }
        }
        return nil
    }

    /// `SUBSTRING(s, start[, length])` in UTF-16 units; out of range or fractional is undefined.
    private func substring(_ arguments: [RouteValue]) -> RouteValue {
        guard case .string(let s) = arguments[0], case .number(let start) = arguments[1] else { return .undefined }
        let units = Array(s.utf16)
        var length = Double(units.count) - start
        if arguments.count > 2 {
            guard case .number(let n) = arguments[2] else { return .undefined }
            length = n
        }
        guard start >= 0, length >= 0, start == start.rounded(), length == length.rounded(),
              start + length <= Double(units.count) else { return .undefined }
        let from = Int(start)
        return .string(String(decoding: units[from..<(from + Int(length))], as: UTF16.self))
    }

    private func math(_ x: [Double]) -> Double {
        switch self {
        case .abs: Swift.abs(x[0])
        case .ceiling: x[0].rounded(.up)
        case .floor: x[0].rounded(.down)
        case .sign: x[0] > 0 ? 1 : x[0] < 0 ? -1 : x[0]
        case .sqrt: x[0].squareRoot()
        case .exp: naturalExponent(x[0])
        case .square: x[0] * x[0]
        default: pow(x[0], x[1])
        }
    }

    /// A decimal number, spaces around it allowed; not "inf", "nan" or hex, which Swift's
    /// parser would take.
    static func number(from text: String) -> Double? {
        var trimmed = Substring(text)
        while let c = trimmed.first, c.isWhitespace { trimmed.removeFirst() }
        while let c = trimmed.last, c.isWhitespace { trimmed.removeLast() }
        guard !trimmed.isEmpty, trimmed.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }),
              let value = Double(trimmed), value.isFinite else { return nil }
        return value
    }
}
