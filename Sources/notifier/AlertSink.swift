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
