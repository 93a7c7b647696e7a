/// The hub's metrics, named as IoT Hub names them in Azure Monitor.
public enum HubMetric: String, CaseIterable, Sendable, Codable {
    case connectedDeviceCount
    case totalDeviceCount
    case telemetryAttempts = "d2c.telemetry.ingress.allProtocol"
    case telemetrySuccess = "d2c.telemetry.ingress.success"
    case telemetryFailure = "d2c.telemetry.ingress.failure"
    case deviceTwinReadSuccess = "d2c.twin.read.success"
    case deviceTwinReadFailure = "d2c.twin.read.failure"
    case deviceTwinUpdateSuccess = "d2c.twin.update.success"
    case deviceTwinUpdateFailure = "d2c.twin.update.failure"
    case serviceTwinReadSuccess = "c2d.twin.read.success"
    case serviceTwinUpdateSuccess = "c2d.twin.update.success"
    case serviceTwinUpdateFailure = "c2d.twin.update.failure"
    case methodSuccess = "c2d.methods.success"
    case methodFailure = "c2d.methods.failure"
    case c2dCompleted = "c2d.commands.egress.complete.success"
    case c2dExpired = "c2d.commands.egress.expired"
    case querySuccess = "twinQueries.success"
    case queryFailure = "twinQueries.failure"

    /// Gauges are sampled once a second; the others count events.
    public var isGauge: Bool { self == .connectedDeviceCount || self == .totalDeviceCount }

    public var unit: String { "Count" }

    public var summary: String {
        switch self {
        case .connectedDeviceCount: "Devices connected to the hub (MQTT or MQTT over WebSocket)"
        case .totalDeviceCount: "Devices registered in the hub"
        case .telemetryAttempts: "Device-to-cloud messages the hub received"
        case .telemetrySuccess: "Device-to-cloud messages stored and acknowledged"
        case .telemetryFailure: "Device-to-cloud messages refused or not stored"
        case .deviceTwinReadSuccess: "Twin GETs from devices answered"
        case .deviceTwinReadFailure: "Twin GETs from devices that failed"
        case .deviceTwinUpdateSuccess: "Reported-property patches from devices applied"
        case .deviceTwinUpdateFailure: "Reported-property patches from devices refused"
        case .serviceTwinReadSuccess: "Twin reads by the service"
        case .serviceTwinUpdateSuccess: "Twin updates by the service"
        case .serviceTwinUpdateFailure: "Twin updates by the service that were refused"
        case .methodSuccess: "Direct methods answered by the device"
        case .methodFailure: "Direct methods that failed (device offline, timeout)"
        case .c2dCompleted: "Cloud-to-device messages the device acknowledged"
        case .c2dExpired: "Cloud-to-device messages that expired undelivered"
        case .querySuccess: "Twin queries answered"
        case .queryFailure: "Twin queries refused"
        }
    }

    /// `connectedDeviceCount` → `iothub_connected_device_count`; dots become underscores.
    public var prometheusName: String {
        var out = "iothub_"
        for ch in rawValue {
            if ch == "." { out += "_" } else if ch.isUppercase { out += "_" + ch.lowercased() } else { out.append(ch) }
        }
        return out
    }

    public static func named(_ text: String) -> HubMetric? {
        allCases.first { $0.rawValue.lowercased() == text.lowercased() }
    }
}
