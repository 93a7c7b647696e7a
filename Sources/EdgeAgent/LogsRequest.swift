import Foundation
import Twin

/// The body of edgeAgent's `GetModuleLogs` and `UploadModuleLogs` methods:
/// `{schemaVersion, items: [{id, filter: {tail, since, until, loglevel, regex}}], encoding,
/// contentType}` (and `sasUrl` for the upload), parsed and checked. Pure.
public struct LogsRequest: Sendable {
    public enum Encoding: String, Sendable { case none, gzip }
    public enum ContentType: String, Sendable { case text, json }

    public struct Item: Sendable {
        /// A regular expression over module names (`edgeHub`, `.*`, `temp.*`).
        public var id: String
        public var tail: Int?
        public var since: String?
        public var until: String?
        /// A syslog severity: only lines written with `<loglevel>` are kept.
        public var logLevel: Int?
        public var regex: String?
    }

    public var items: [Item]
    public var encoding: Encoding
    public var contentType: ContentType
    public var sasURL: String?

    /// A request the caller must change: the method answers 400 with this text.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    public init(payload: JSONValue, needsSASURL: Bool = false) throws {
        guard case .object = payload else { throw Invalid(description: "the payload must be a JSON object: {\"schemaVersion\": \"1.0\", \"items\": [{\"id\": \"edgeAgent\"}]}") }
        if let version = payload["schemaVersion"]?.stringValue, !version.hasPrefix("1.") {
            throw Invalid(description: "schemaVersion \(version) is not supported: use \"1.0\"")
        }
        guard case .array(let raw)? = payload["items"], !raw.isEmpty else {
            throw Invalid(description: "items is missing: give [{\"id\": \"<module name regex>\", \"filter\": {\"tail\": 100}}]")
        }
        items = try raw.map { item in
            guard let id = item["id"]?.stringValue, !id.isEmpty else { throw Invalid(description: "each item needs an id (a regular expression over module names)") }
            guard (try? NSRegularExpression(pattern: id)) != nil else { throw Invalid(description: "id \"\(id)\" is not a valid regular expression") }
            let filter = item["filter"] ?? .object([:])
            func int(_ key: String) throws -> Int? {
                guard let v = filter[key], v != .null else { return nil }
                guard let n = v.numberValue, n >= 0, n == n.rounded() else { throw Invalid(description: "filter.\(key) must be a whole number ≥ 0") }
                return Int(n)
            }
            func text(_ key: String) -> String? {
                guard let v = filter[key] else { return nil }
                if let s = v.stringValue { return s }
                return v.numberValue.map { String(Int($0)) }
            }
            let regex = text("regex")
            if let regex, (try? NSRegularExpression(pattern: regex)) == nil { throw Invalid(description: "filter.regex \"\(regex)\" is not a valid regular expression") }
            let level = try int("loglevel")
            if let level, level > 7 { throw Invalid(description: "filter.loglevel \(level) is not a syslog severity (0 to 7)") }
            return Item(id: id, tail: try int("tail"), since: text("since"), until: text("until"), logLevel: level, regex: regex)
        }
        let enc = payload["encoding"]?.stringValue?.lowercased() ?? "none"
        guard let encoding = Encoding(rawValue: enc) else { throw Invalid(description: "encoding \"\(enc)\" is not none or gzip") }
        self.encoding = encoding
        let type = payload["contentType"]?.stringValue?.lowercased() ?? "text"
        guard let contentType = ContentType(rawValue: type) else { throw Invalid(description: "contentType \"\(type)\" is not text or json") }
        self.contentType = contentType
        sasURL = payload["sasUrl"]?.stringValue
        if needsSASURL {
            guard let sas = sasURL, sas.hasPrefix("https://") || sas.hasPrefix("http://") else {
                throw Invalid(description: "sasUrl is missing: give the SAS URL of a blob container (iothub files sas --container NAME)")
            }
        }
    }

    /// The module names an item's id matches (a regex match anywhere in the name, as edgeAgent does).
    public static func matching(_ id: String, in names: [String]) -> [String] {
        guard let regex = try? NSRegularExpression(pattern: id) else { return [] }
        return names.filter { regex.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil }.sorted()
    }
}

/// One module's lines, filtered and shaped for the method's answer.
public enum ModuleLogPayload {
    /// edgeAgent's cap on a direct method answer (128 KB less a margin).
    public static let maxBytes = 127_000

    /// Keeps the lines at `logLevel` and matching `regex` (the daemon already applied
    /// since, until and tail).
    public static func filter(_ lines: [Substring], logLevel: Int?, regex: String?) -> [Substring] {
        let pattern = regex.flatMap { try? NSRegularExpression(pattern: $0) }
        return lines.filter { raw in
            let line = textOf(raw)
            if let logLevel, severity(of: line) != logLevel { return false }
            if let pattern { let s = String(line); return pattern.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil }
            return true
        }
    }

    /// The body: lines as text, or edgeAgent's JSON messages
    /// `{iothub, device, id, stream, loglevel, text, timestamp}`.
    public static func body(_ lines: [Substring], contentType: LogsRequest.ContentType, hub: String, device: String, module: String) -> [UInt8] {
        switch contentType {
        case .text:
            return Array(lines.map { textOf($0) }.joined(separator: "\n").utf8) + (lines.isEmpty ? [] : [10])
        case .json:
            let messages: [JSONValue] = lines.map { raw in
                let (time, line) = split(raw)
                var text = line
                if let close = line.firstIndex(of: ">"), line.first == "<" { text = line[line.index(after: close)...].drop { $0 == " " } }
                var fields: [String: JSONValue] = [
                    "iothub": .string(hub), "device": .string(device), "id": .string(module), "stream": "stderr",
                    "loglevel": .number(Double(severity(of: line) ?? 6)), "text": .string(String(text)),
                ]
                if let time { fields["timestamp"] = .string(String(time)) }
                return .object(fields)
            }
            return Array(JSONValue.array(messages).jsonText.utf8)
        }
    }

    /// The message edgeAgent answers instead of logs that exceed the cap, with how to narrow.
    public static func tooLarge(_ size: Int, item: LogsRequest.Item) -> String {
        """
        The payload is too large for a direct method. GetModuleLogs supports up to \(maxBytes) bytes of logs. \
        The current request returned \(size) bytes.
        Try reducing the size of the logs by setting the 'tail', 'since' and 'until' fields in the filter \
        (for example "filter": {"tail": 100}), or upload them with UploadModuleLogs.
        Current filter: tail \(item.tail.map(String.init) ?? "none"), since \(item.since ?? "none"), until \(item.until ?? "none")\
        \(item.logLevel.map { ", loglevel \($0)" } ?? "")\(item.regex.map { ", regex \($0)" } ?? "")
        """
    }

    /// Lines come from the daemon with its capture time first (`timestamps=true`).
    static func split(_ raw: Substring) -> (time: Substring?, text: Substring) {
        guard let space = raw.firstIndex(of: " "), raw.first?.isNumber == true, raw[..<space].contains("T") else { return (nil, raw) }
        return (raw[..<space], raw[raw.index(after: space)...])
    }

    static func textOf(_ raw: Substring) -> Substring { split(raw).text }

    static func severity(of line: Substring) -> Int? {
        guard line.first == "<", let close = line.firstIndex(of: ">") else { return nil }
        return Int(line[line.index(after: line.startIndex)..<close])
    }
}
