import Foundation
import Logging
import Store
import HTTPClient
import WorkerRuntime
import Wire

/// Which alerts may be delivered in this run (`--alert-limit`, `--test-startup`), and the count of alerts
/// fully delivered to every sink. When the count reaches the limit, the notifier finishes.
actor AlertLimitGate {
    /// At most this many distinct alerts are handed to sinks (nil: unlimited).
    nonisolated let limit: Int?
    /// Only these kinds are delivered (nil: all). `--test-startup` delivers only the Startup alert.
    nonisolated let kinds: [AlertKind]?
    private var admitted: Set<Int64> = []
    private var counted: Set<Int64> = []
    private let onLimitReached: @Sendable (String) -> Void

    init(limit: Int?, testStartup: Bool, onLimitReached: @escaping @Sendable (String) -> Void) {
        if testStartup {
            self.limit = min(limit ?? 1, 1)
            kinds = [.startup]
        } else {
            self.limit = limit
            kinds = nil
        }
        self.onLimitReached = onLimitReached
    }

    /// Whether a sink may deliver alert `rowID`. Sinks ask in row order, so the admitted set is the
    /// first `limit` alerts that any sink reached.
    func admit(_ rowID: Int64) -> Bool {
        guard let limit else { return true }
        if admitted.contains(rowID) { return true }
        guard admitted.count < limit else { return false }
        admitted.insert(rowID)
        return true
    }

    /// Called when alert `rowID` is delivered to every sink.
    func fullyDelivered(_ rowID: Int64, kind: AlertKind) -> Int {
        guard counted.insert(rowID).inserted else { return counted.count }
        if let limit, counted.count >= limit {
            onLimitReached(kinds == nil ? "--alert-limit \(limit) reached: \(counted.count) alert(s) delivered to every sink"
                                        : "--test-startup: the Startup alert was delivered to every sink")
        }
        return counted.count
    }
}

/// One sink's delivery loop: takes that sink's open deliveries in alert order, one at a time, and backs
/// off on its own, so a sink that is down never holds up the others. Time comes in two injected forms:
/// `clock` (monotonic) for every wait, and `wallClock` for the due times persisted in the outbox, so a test
/// drives the loop with a `ManualClock` and never sleeps.
struct DeliveryLoop<C: Clock>: Sendable where C.Duration == Duration {
    let sink: any AlertSink
    let outbox: Outbox
    let allSinks: [String]
    let gate: AlertLimitGate
    let wake: WakeSignal
    let stopping: OnceFlag
    let policy: RetryPolicy
    /// Safety-net poll: a lost wake-up only delays a delivery this long.
    let pollInterval: Duration
    let clock: C
    let wallClock: WallClock
    let logger: Logger
    let metrics: NotifierMetrics
    let onFatal: @Sendable (ConfigError) -> Void

    func run() async {
        var log = logger
        log[metadataKey: "sink"] = "\(sink.name)"
        // Registered first, so a sink that is unreachable at its very first start still gets the alerts
        // written from then on (and the hour before).
        do { try outbox.register(sink: sink.name, now: wallClock.now()) } catch { log.error("cannot register sink: \(error)") }
        guard await prepare(log) else { return }
        // Highest alert row already turned into deliveries: a wake-up without new alerts costs reads only,
        // never the write lock the alert-worker needs.
        var enqueuedUpTo: Int64 = -1
        // The outbox-depth gauge is refreshed at most once a second (it counts rows).
        var depthMeasuredAt: C.Instant?
        while !stopping.isSet {
            let seen = wake.current
            do {
                let last = try outbox.store.lastAlertRowID()
                if last > enqueuedUpTo {
                    try outbox.enqueueNew(sink: sink.name, now: wallClock.now())
                    enqueuedUpTo = last
                }
                if depthMeasuredAt.map({ $0.duration(to: clock.now) >= .seconds(1) }) ?? true {
                    depthMeasuredAt = clock.now
                    metrics.outboxDepth(sink: sink.name, depth: try outbox.openCount(sink: sink.name))
                }
                guard let entry = try outbox.next(sink: sink.name, kinds: gate.kinds), await gate.admit(entry.alert.rowID) else {
                    await wake.wait(after: seen, timeout: pollInterval)
                    continue
                }
                let due = entry.nextAttemptAt.timeIntervalSince(wallClock.now())
                if due > 0 {
                    await wake.wait(after: seen, timeout: min(.milliseconds(Int64(due * 1000) + 1), pollInterval))
                    continue
                }
                if stopping.isSet { break }
                try await attempt(entry, log: log)
            } catch {
                log.error("store error in delivery loop: \(error)")
                await wake.wait(after: wake.current, timeout: .seconds(1))
            }
        }
    }

    /// The sink must be ready (Slack: token and channels) before it takes any row; false when it never will be
    /// (a fatal configuration error, reported) or the notifier is stopping.
    private func prepare(_ log: Logger) async -> Bool {
        var attempt = 0
        while !stopping.isSet {
            switch await sink.prepare() {
            case .ready: return true
            case .fatal(let error):
                onFatal(error)
                return false
            case .retry(let reason):
                attempt += 1
                let delay = policy.delay(afterAttempt: attempt, retryAfter: nil, random: Double.random(in: 0 ..< 1))
                log.warning("sink not ready, retrying", metadata: ["reason": "\(reason)", "in": "\(delay)"])
                await wake.wait(after: wake.current, timeout: delay)
            }
        }
        return false
    }

    /// One delivery attempt of `entry`: first asks the sink about a delivery left in doubt by a dead process,
    /// then sends, and records the outcome.
    private func attempt(_ entry: OutboxEntry, log: Logger) async throws {
        let alert = entry.alert
        var meta: Logger.Metadata = ["alert": "\(alert.payload.id)", "kind": "\(alert.payload.kind.rawValue)"]
        var inDoubt = false
        if entry.state == .sending {
            switch await sink.reconcile(alert) {
            case .alreadyDelivered:
                try outbox.markDelivered(rowID: alert.rowID, sink: sink.name, now: wallClock.now())
                metrics.inDoubtReconciled(sink: sink.name)
                log.notice("in-doubt delivery was already accepted; not sending again", metadata: meta)
                await fullyDelivered(alert)
                return
            case .resend:
                inDoubt = true
            case .unknown(let reason):
                let delay = policy.delay(afterAttempt: entry.attempts, retryAfter: nil, random: Double.random(in: 0 ..< 1))
                try outbox.markRetry(rowID: alert.rowID, sink: sink.name, at: wallClock.now().addingTimeInterval(delay.seconds),
                                     error: "reconcile: \(reason)", keepInDoubt: true)
                log.warning("cannot check an in-doubt delivery yet", metadata: meta.merging(["reason": "\(reason)"]) { $1 })
                return
            }
        }
        let attempt = try outbox.markSending(rowID: alert.rowID, sink: sink.name)
        if inDoubt {
            metrics.inDoubtResend(sink: sink.name)
            log.warning("resending an in-doubt delivery (the previous process died mid-send)", metadata: meta)
        }
        let outcome = await sink.deliver(alert, attempt: attempt, inDoubt: inDoubt)
        meta["attempt"] = "\(attempt)"
        switch outcome {
        case .accepted:
            try outbox.markDelivered(rowID: alert.rowID, sink: sink.name, now: wallClock.now())
            metrics.delivery(sink: sink.name, result: "delivered")
            log.debug("delivered", metadata: meta)
            await fullyDelivered(alert)
        case .retry(let reason, let retryAfter):
            let delay = policy.delay(afterAttempt: attempt, retryAfter: retryAfter, random: Double.random(in: 0 ..< 1))
            try outbox.markRetry(rowID: alert.rowID, sink: sink.name, at: wallClock.now().addingTimeInterval(delay.seconds), error: reason)
            metrics.delivery(sink: sink.name, result: "retry")
            log.warning("delivery failed, will retry", metadata: meta.merging(["reason": "\(reason)", "retry_in": "\(delay)"]) { $1 })
        case .permanent(let reason):
            try outbox.markFailed(rowID: alert.rowID, sink: sink.name, error: reason)
            metrics.delivery(sink: sink.name, result: "failed")
            metrics.permanentFailure(sink: sink.name)
            log.error("delivery failed permanently; not retrying", metadata: meta.merging(["reason": "\(reason)"]) { $1 })
        }
    }

    private func fullyDelivered(_ alert: StoredAlert) async {
        // Only --alert-limit / --test-startup count fully delivered alerts.
        guard gate.limit != nil else { return }
        do {
            if try outbox.isFullyDelivered(rowID: alert.rowID, sinks: allSinks) {
                _ = await gate.fullyDelivered(alert.rowID, kind: alert.payload.kind)
            }
        } catch {
            logger.error("store error: \(error)")
        }
    }
}

extension Duration {
    /// Seconds as a Double.
    var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
