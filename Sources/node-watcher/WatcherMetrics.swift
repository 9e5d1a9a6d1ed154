import Metrics
import Synchronization

/// Why the watcher counted an error. Raw values are metric label values: never rename them.
enum WatcherErrorReason: String, Sendable, CaseIterable {
    case connectFailed = "connect_failed"
    case connectionLost = "connection_lost"
    case malformedJSON = "malformed_json"
    case rpcError = "rpc_error"
    case unknownNotification = "unknown_notification"
    case unexpectedResponse = "unexpected_response"
    case oversizedFrame = "oversized_frame"
    case invalidHeader = "invalid_header"
    case invalidResponse = "invalid_response"
    case timeout = "timeout"
    case tooManyOutstanding = "too_many_outstanding"
    case badFetchRequest = "bad_fetch_request"
}

/// Per-node metrics (every series carries the node URL as the `node` label), plus an in-process
/// snapshot of the error counts for tests and benchmarks.
final class WatcherMetrics: Sendable {
    static let rpcLatencyLabel = "chain_alerter_watcher_rpc_latency"
    static let reconnectsLabel = "chain_alerter_watcher_reconnects_total"
    static let errorsLabel = "chain_alerter_watcher_errors_total"
    static let bestHeightLabel = "chain_alerter_watcher_best_height"
    static let droppedLabel = "chain_alerter_watcher_dropped_total"
    static let headersLabel = "chain_alerter_watcher_headers_total"
    static let metadataFetchesLabel = "chain_alerter_watcher_metadata_fetches_total"
    static let connectedLabel = "chain_alerter_watcher_connected"

    let node: String
    private let factory: any MetricsFactory
    private let counts = Mutex<[String: Int]>([:])

    init(node: String, factory: any MetricsFactory = MetricsSystem.factory) {
        self.node = node
        self.factory = factory
    }

    private func bump(_ key: String, by amount: Int = 1) {
        counts.withLock { $0[key, default: 0] += amount }
    }

    /// How many times `key` was counted (`error.<reason>`, `reconnect`, `dropped.<socket>`, `header.<kind>`, `metadata`).
    func count(_ key: String) -> Int { counts.withLock { $0[key] ?? 0 } }
    func errors(_ reason: WatcherErrorReason) -> Int { count("error.\(reason.rawValue)") }

    func error(_ reason: WatcherErrorReason) {
        bump("error.\(reason.rawValue)")
        Counter(label: Self.errorsLabel, dimensions: [("node", node), ("reason", reason.rawValue)], factory: factory).increment()
    }

    func reconnect() {
        bump("reconnect")
        Counter(label: Self.reconnectsLabel, dimensions: [("node", node)], factory: factory).increment()
    }

    func rpcLatency(method: String, nanoseconds: Int64) {
        Timer(label: Self.rpcLatencyLabel, dimensions: [("node", node), ("method", method)], factory: factory)
            .recordNanoseconds(nanoseconds)
    }

    func bestHeight(_ height: UInt64) {
        Gauge(label: Self.bestHeightLabel, dimensions: [("node", node)], factory: factory).record(Double(height))
    }

    /// 1 while the node's subscriptions are set up, 0 otherwise.
    func connected(_ connected: Bool) {
        Gauge(label: Self.connectedLabel, dimensions: [("node", node)], factory: factory).record(connected ? 1 : 0)
    }

    func dropped(socket: String) {
        bump("dropped.\(socket)")
        Counter(label: Self.droppedLabel, dimensions: [("node", node), ("socket", socket)], factory: factory).increment()
    }

    func header(_ kind: String) {
        bump("header.\(kind)")
        Counter(label: Self.headersLabel, dimensions: [("node", node), ("subscription", kind)], factory: factory).increment()
    }

    func metadataFetched() {
        bump("metadata")
        Counter(label: Self.metadataFetchesLabel, dimensions: [("node", node)], factory: factory).increment()
    }
}
