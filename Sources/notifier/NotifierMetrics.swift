import Metrics

/// The notifier's counters. Labels are stable (`chain_alerter_notifier_…`); the factory is explicit so
/// tests read their own `TestMetrics` without bootstrapping the process-wide metrics system.
struct NotifierMetrics: Sendable {
    static let deliveriesLabel = "chain_alerter_notifier_deliveries_total"
    static let permanentFailuresLabel = "chain_alerter_notifier_permanent_failures_total"
    static let inDoubtResendsLabel = "chain_alerter_notifier_in_doubt_resends_total"
    static let inDoubtReconciledLabel = "chain_alerter_notifier_in_doubt_reconciled_total"
    static let uptimeKumaFailuresLabel = "chain_alerter_notifier_uptime_kuma_failures_total"
    static let outboxDepthLabel = "chain_alerter_notifier_outbox_depth"

    private let factory: any MetricsFactory

    init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    /// One attempt's result for `sink`: `delivered`, `retry` or `failed`.
    func delivery(sink: String, result: String) {
        Counter(label: Self.deliveriesLabel, dimensions: [("sink", sink), ("result", result)], factory: factory).increment()
    }

    /// The sink refused an alert for good (bad token, unknown channel, HTTP 404 …).
    func permanentFailure(sink: String) {
        Counter(label: Self.permanentFailuresLabel, dimensions: [("sink", sink)], factory: factory).increment()
    }

    /// An in-doubt delivery was sent again (a crash hid whether the sink had it).
    func inDoubtResend(sink: String) {
        Counter(label: Self.inDoubtResendsLabel, dimensions: [("sink", sink)], factory: factory).increment()
    }

    /// An in-doubt delivery was found at the sink and not sent again.
    func inDoubtReconciled(sink: String) {
        Counter(label: Self.inDoubtReconciledLabel, dimensions: [("sink", sink)], factory: factory).increment()
    }

    /// Deliveries of `sink` still open (pending or in doubt).
    func outboxDepth(sink: String, depth: Int) {
        Gauge(label: Self.outboxDepthLabel, dimensions: [("sink", sink)], factory: factory).record(Double(depth))
    }

    func uptimeKumaFailure() {
        Counter(label: Self.uptimeKumaFailuresLabel, factory: factory).increment()
    }
}
