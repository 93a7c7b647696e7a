public enum EdgeDaemonVersion { public static let text = "0.1.0" }
