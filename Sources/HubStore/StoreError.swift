/// Failures of conditional writes that callers turn into IoT Hub error codes.
public enum StoreError: Error, Equatable, Sendable {
    case notFound
    case alreadyExists
    case preconditionFailed(currentETag: String)
    /// A device's cloud-to-device queue holds as many messages as it may.
    case queueFull(depth: Int)
}
