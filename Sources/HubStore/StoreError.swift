/// Failures of conditional writes that callers turn into IoT Hub error codes.
public enum StoreError: Error, Equatable, Sendable {
    case notFound
    case alreadyExists
    case preconditionFailed(currentETag: String)
}
