/// How long to wait before the next reconnect attempt: `initial`, doubling per failed attempt up
/// to `maximum`, each delay shortened by a random share of up to `jitter` so that many devices
/// cut off together do not come back in lockstep. Pure: the random number is a parameter.
public struct ReconnectBackoff: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration
    /// 0 to 1: the largest share of a delay taken off at random.
    public var jitter: Double

    public init(initial: Duration = .seconds(1), maximum: Duration = .seconds(60), jitter: Double = 0.2) {
        self.initial = initial
        self.maximum = max(initial, maximum)
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The delay before attempt `attempt` (0 for the first retry); `random` is in 0..<1.
    public func delay(attempt: Int, random: Double) -> Duration {
        let factor = Double(1 << min(max(attempt, 0), 30))
        let base = min(initial.seconds * factor, maximum.seconds)
        return .milliseconds(Int64((base * (1 - jitter * random) * 1000).rounded()))
    }

    public func delay(attempt: Int) -> Duration {
        delay(attempt: attempt, random: Double.random(in: 0..<1))
    }
}
