/// Exponential backoff with jitter: the one backoff of every room (the supervisor's restarts, a watcher's
/// reconnects, the notifier's delivery retries). After `n` consecutive failures the nominal delay is
/// `initial × 2^(n−1)`, capped at `maximum`; jitter then removes up to `jitter` of it, so that many clients
/// retrying together spread out. Pure arithmetic: the caller passes the random number, so tests pin it.
public struct Backoff: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration
    /// The fraction of a delay that jitter may remove, 0 (none) to 1.
    public var jitter: Double
    /// Failures counted by `next(random:)` since the last `reset()`.
    public private(set) var failures = 0

    public init(initial: Duration, maximum: Duration, jitter: Double) {
        self.initial = initial
        self.maximum = max(maximum, initial)
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The un-jittered delay after `failures` consecutive failures (1 → `initial`).
    public func nominal(afterFailures failures: Int) -> Duration {
        var delay = initial
        var step = 1
        while step < failures && delay < maximum {
            delay = delay * 2
            step += 1
        }
        return min(delay, maximum)
    }

    /// The delay after `failures` consecutive failures; `random` in 0...1 (clamped) picks the jitter.
    public func delay(afterFailures failures: Int, random: Double) -> Duration {
        Self.jittered(nominal(afterFailures: failures), spread: jitter, random: random)
    }

    /// Counts one more failure and returns the delay before the next attempt.
    public mutating func next(random: Double) -> Duration {
        failures += 1
        return delay(afterFailures: failures, random: random)
    }

    /// Back to `initial` (after a success, or a run long enough to count as stable).
    public mutating func reset() { failures = 0 }

    /// `nominal` shortened by `spread × random` of itself (`random` clamped to 0...1).
    public static func jittered(_ nominal: Duration, spread: Double, random: Double) -> Duration {
        nominal * (1 - min(max(spread, 0), 1) * min(max(random, 0), 1))
    }
}
