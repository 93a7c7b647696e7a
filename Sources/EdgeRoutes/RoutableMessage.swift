/// A message as routes see it: where it came from, its properties and its body.
public struct RoutableMessage: Sendable {
    /// Where a message came from, which decides the sources that read it.
    public enum Source: Equatable, Sendable {
        /// Telemetry from a device (a leaf device of this edge device).
        case device(String)
        /// A message a module sent; `output` is the output name (nil for a plain send).
        case module(deviceId: String, moduleId: String, output: String?)
        /// A twin change notification of a device or, with `moduleId`, a module.
        case twinChangeNotification(deviceId: String, moduleId: String?)
    }

    public var source: Source
    /// Application properties. Names are matched exactly, then in any case: IoT Hub treats
    /// them case-insensitively.
    public var properties: [String: String]
    /// System properties by their query names without `$`: `contentType`, `contentEncoding`,
    /// `messageId`, `correlationId`, `userId`… `connectionDeviceId`, `connectionModuleId` and
    /// `outputName` come from `source`.
    public var systemProperties: [String: String]
    public var body: [UInt8]

    public init(source: Source, properties: [String: String] = [:], systemProperties: [String: String] = [:], body: [UInt8] = []) {
        self.source = source
        self.properties = properties
        self.systemProperties = systemProperties
        self.body = body
    }

    /// `$contentType`: `$body` queries need `application/json`.
    public var contentType: String? {
        get { systemProperties["contentType"] }
        set { systemProperties["contentType"] = newValue }
    }

    /// `$contentEncoding`: `$body` queries need `utf-8`, `utf-16` or `utf-32`.
    public var contentEncoding: String? {
        get { systemProperties["contentEncoding"] }
        set { systemProperties["contentEncoding"] = newValue }
    }

    /// An application property: the exact name, else the first name equal in any case.
    func property(_ name: String) -> String? {
        Self.lookup(name, in: properties)
    }

    /// A system property by its query name. The identity properties come from `source`, which
    /// edgeHub knows from the connection, so a message cannot claim another's.
    func systemProperty(_ name: String) -> String? {
        switch (name.lowercased(), source) {
        case ("connectiondeviceid", .device(let d)), ("connectiondeviceid", .module(let d, _, _)),
             ("connectiondeviceid", .twinChangeNotification(let d, _)):
            return d
        case ("connectionmoduleid", .module(_, let m, _)): return m
        case ("connectionmoduleid", .twinChangeNotification(_, let m)): return m
        case ("connectionmoduleid", .device): return nil
        case ("outputname", .module(_, _, let o)): return o
        case ("outputname", _): return nil
        default: return Self.lookup(name, in: systemProperties)
        }
    }

    private static func lookup(_ name: String, in bag: [String: String]) -> String? {
        if let value = bag[name] { return value }
        let lower = name.lowercased()
        return bag.filter { $0.key.lowercased() == lower }.min { $0.key < $1.key }?.value
    }
}
