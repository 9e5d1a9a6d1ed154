import Foundation
import Store
import HTTPClient
import WorkerRuntime
import Wire

/// What a sink said about one delivery attempt.
enum DeliveryOutcome: Sendable, Equatable {
    /// The sink accepted the alert; it is delivered.
    case accepted
    /// A transient failure; try again after `retryAfter` (the sink's own word, e.g. HTTP 429) or the backoff.
    case retry(reason: String, retryAfter: Duration?)
    /// The sink will never accept this (bad token, unknown channel, 404 …). Never retried.
    case permanent(reason: String)
}

/// Whether an in-doubt delivery (sent, then the process died before marking it) already reached the sink.
enum ReconcileOutcome: Sendable, Equatable {
    /// The sink has it: mark it delivered without sending again.
    case alreadyDelivered
    /// The sink cannot tell (webhook, terminal) or does not have it: send again, flagged as in doubt.
    case resend
    /// The check itself failed; keep the row in doubt and check again later.
    case unknown(reason: String)
}

/// Whether a sink can start delivering.
enum SinkReadiness: Sendable, Equatable {
    case ready
    /// Try `prepare()` again later (e.g. Slack unreachable at start).
    case retry(reason: String)
    /// A configuration problem (e.g. Slack says invalid_auth): the notifier exits 78.
    case fatal(ConfigError)
}

/// A destination for alerts: Slack, a webhook, the terminal. Deliveries to one sink happen one at a
/// time, in alert order, from that sink's own `DeliveryLoop`.
protocol AlertSink: Sendable {
    /// Stable key of this sink in the store (`delivery.sink`), also its metric label. Never contains secrets.
    var name: String { get }
    /// Called until it returns `.ready` before the first delivery.
    func prepare() async -> SinkReadiness
    /// One attempt. `inDoubt`: a resend of an attempt whose outcome was lost in a crash.
    func deliver(_ alert: StoredAlert, attempt: Int, inDoubt: Bool) async -> DeliveryOutcome
    /// Called for a delivery found in state `sending` after a restart, before it is sent again.
    func reconcile(_ alert: StoredAlert) async -> ReconcileOutcome
}

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
final class WakeSignal: @unchecked Sendable {
    /// Sleeps for a timeout on the injected clock (a `ManualClock` in tests).
    private let sleep: @Sendable (Duration) async -> Void
    private let lock = NSLock()
    private var generation: UInt64 = 0
    private var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiter: UInt64 = 0

    init<C: Clock>(clock: C = ContinuousClock()) where C.Duration == Duration {
        sleep = { try? await clock.sleep(for: $0) }
    }

    /// The current generation; pass it to `wait` to sleep until the next ring.
    var current: UInt64 { lock.lock(); defer { lock.unlock() }; return generation }

    func ring() {
        lock.lock()
        generation &+= 1
        let ws = waiters
        waiters = [:]
        lock.unlock()
        for w in ws.values { w.resume() }
    }

    /// Returns after a ring newer than `seen`, or after `timeout`.
    func wait(after seen: UInt64, timeout: Duration) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            lock.lock()
            if generation != seen { lock.unlock(); c.resume(); return }
            let id = nextWaiter
            nextWaiter &+= 1
            waiters[id] = c
            lock.unlock()
            let sleep = self.sleep
            Task { [weak self] in
                await sleep(timeout)
                self?.timeOut(id)
            }
        }
    }

    private func timeOut(_ id: UInt64) {
        lock.lock()
        let w = waiters.removeValue(forKey: id)
        lock.unlock()
        w?.resume()
    }
}

/// A flag that is set once (shutdown requested).
final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    /// Sets it; returns true the first time.
    @discardableResult
    func set() -> Bool { lock.lock(); defer { lock.unlock() }; let was = value; value = true; return !was }
}
