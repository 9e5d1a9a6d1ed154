import Foundation
import Store
import HTTPClient
import WorkerRuntime
import Wire

/// Exponential backoff with full jitter, capped; a sink's `Retry-After` wins when given.
struct RetryPolicy: Sendable {
    /// Half of each delay is fixed and half is jitter: never hammers, and retries of many notifiers spread out.
    var backoff: Backoff
    /// A `Retry-After` larger than this is clamped (a broken header must not park a sink for days).
    var maxRetryAfter: Duration = .seconds(3600)

    init(base: Duration = .milliseconds(500), cap: Duration = .seconds(60)) {
        backoff = Backoff(initial: base, maximum: cap, jitter: 0.5)
    }

    /// Delay before attempt `attempt + 1` after `attempt` failures (attempt ≥ 1). `random` is in [0, 1): 0 is
    /// the shortest delay.
    func delay(afterAttempt attempt: Int, retryAfter: Duration?, random: Double) -> Duration {
        if let retryAfter { return min(max(retryAfter, .zero), maxRetryAfter) }
        return backoff.delay(afterFailures: max(attempt, 1), random: 1 - random)
    }
}

/// HTTP `Retry-After`: delta-seconds or an HTTP-date.
enum RetryAfter {
    static func parse(_ value: String?, now: Date = Date()) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value), seconds >= 0 { return .milliseconds(Int64(seconds * 1000)) }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        if let date = f.date(from: value) {
            return .milliseconds(Int64(max(0, date.timeIntervalSince(now)) * 1000))
        }
        return nil
    }
}

/// Wakes sleeping delivery loops: rung when new alerts are committed, on shutdown, and by the poll.
