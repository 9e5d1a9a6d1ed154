import Foundation
import Logging
import Synchronization
import WorkerRuntime
import Wire
import ControlPlane
import Store
import SubstrateRuntime
import SubstratePrimitives

/// The documents behind `/metrics`, `/health` and `/status`, built from an `ObservationHub` snapshot, the
/// workers' metrics and the alert store (read-only). Runs on the HTTP server's own queue, never on the
/// supervisor's loop.
final class StatusService: Sendable {
    /// A node with no fresher heartbeat from its watcher (or from the fork-worker) than this is not healthy.
    static let staleAfter: Double = 3
    static let recentAlertLimit = 50

    let hub: ObservationHub
    let store: StoreLocation?
    /// The supervisor's own registry (its control socket's bus counters), exported as worker `supervisor`.
    let ownMetrics: WorkerMetricsExport?
    private let logger: Logger
    private let cache = Mutex<Cache>(Cache())

    private struct Cache {
        /// Parsed expositions by worker, reused while the heartbeat sequence is the same.
        var parsed: [String: (pid: Int32, sequence: UInt64, families: [ExpositionFamily])] = [:]
        var store: AlertStore?
        var storeRetryAt: ContinuousClock.Instant?
    }

    init(hub: ObservationHub, store: StoreLocation?, ownMetrics: WorkerMetricsExport?, logger: Logger) {
        self.hub = hub
        self.store = store
        self.ownMetrics = ownMetrics
        self.logger = logger
    }

    // MARK: /metrics

    /// Every worker's metrics with a `worker` label, plus the supervisor's own.
    func metricsText() -> String {
        let snapshot = hub.snapshot()
        return Exposition.aggregate(sources(snapshot)).text
    }

    func sources(_ snapshot: ObservationHub.Snapshot) -> [Exposition.Source] {
        var sources: [Exposition.Source] = [Exposition.Source(worker: "supervisor", families: supervisorFamilies(snapshot))]
        if let ownMetrics {
            sources[0].families += Exposition.parse(ownMetrics.exposition(limit: .max)).families
        }
        for row in snapshot.workers {
            guard let report = snapshot.reports[row.name], let text = report.metrics else { continue }
            sources.append(Exposition.Source(worker: row.name, families: parsed(row.name, report: report, text: text)))
        }
        return sources
    }

    private func parsed(_ worker: String, report: ObservationHub.Report, text: String) -> [ExpositionFamily] {
        if let hit = cache.withLock({ $0.parsed[worker] }), hit.pid == report.pid, hit.sequence == report.sequence {
            return hit.families
        }
        let families = Exposition.parse(text).families
        cache.withLock { $0.parsed[worker] = (report.pid, report.sequence, families) }
        return families
    }

    /// The supervisor's view of each worker, as metrics.
    func supervisorFamilies(_ snapshot: ObservationHub.Snapshot) -> [ExpositionFamily] {
        func sample(_ name: String, _ worker: String, _ value: Double) -> ExpositionSample {
            ExpositionSample(name: name, labels: [.init(name: "name", value: worker)], value: Self.format(value))
        }
        var up = ExpositionFamily(name: "chain_alerter_worker_up", type: "gauge",
                                  help: "1 while the worker is running (READY and heartbeating), else 0.", samples: [])
        var restarts = ExpositionFamily(name: "chain_alerter_worker_restarts_total", type: "counter",
                                        help: "Times the supervisor started the worker again.", samples: [])
        var uptime = ExpositionFamily(name: "chain_alerter_worker_uptime_seconds", type: "gauge",
                                      help: "Seconds since the worker's current process was started.", samples: [])
        var age = ExpositionFamily(name: "chain_alerter_worker_heartbeat_age_seconds", type: "gauge",
                                   help: "Seconds since the worker's last heartbeat.", samples: [])
        for row in snapshot.workers {
            up.samples.append(sample(up.name, row.name, row.state == "running" ? 1 : 0))
            restarts.samples.append(sample(restarts.name, row.name, Double(row.restarts)))
            uptime.samples.append(sample(uptime.name, row.name, row.uptimeSeconds ?? 0))
            if let report = snapshot.reports[row.name] {
                age.samples.append(sample(age.name, row.name, ObservationHub.seconds(report.receivedAt.duration(to: snapshot.now))))
            }
        }
        let own = ExpositionFamily(name: "chain_alerter_supervisor_uptime_seconds", type: "gauge",
                                   help: "Seconds since the supervisor started.",
                                   samples: [ExpositionSample(name: "chain_alerter_supervisor_uptime_seconds", labels: [],
                                                              value: Self.format(snapshot.supervisorUptime))])
        return [up, restarts, uptime, age, own]
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    // MARK: /status and /health

    func status() -> StatusDocument {
        let snapshot = hub.snapshot()
        var samples: [(worker: String, sample: ExpositionSample, type: String)] = []
        for row in snapshot.workers {
            guard let report = snapshot.reports[row.name], let text = report.metrics else { continue }
            for family in parsed(row.name, report: report, text: text) {
                for sample in family.samples { samples.append((row.name, sample, family.type)) }
            }
        }
        let alerts = recentAlerts()
        return Self.build(snapshot: snapshot, nodes: hub.nodes, samples: samples, alerts: alerts.alerts,
                          storeProblem: alerts.problem, openStall: alerts.openStall, checkedHeight: alerts.checkedHeight)
    }

    private func recentAlerts() -> (alerts: [StoredAlert], problem: String?, openStall: StoredAlert?, checkedHeight: UInt64?) {
        guard case .sqliteFile(let path) = store else {
            return ([], store == nil ? nil : "the store is not a file the supervisor can read", nil, nil)
        }
        let now = ContinuousClock.now
        let opened: AlertStore? = cache.withLock { cache in
            if let store = cache.store { return store }
            if let retry = cache.storeRetryAt, now < retry { return nil }
            do {
                let store = try AlertStore(readOnlyPath: path)
                cache.store = store
                return store
            } catch {
                cache.storeRetryAt = now.advanced(by: .seconds(1))
                return nil
            }
        }
        guard let opened else { return ([], "no alert store yet at \(path)", nil, nil) }
        do {
            let alerts = try opened.recentAlerts(limit: Self.recentAlertLimit)
            let stall = try opened.openStall()
            let checked = try? opened.cursor(named: AlertStore.alertWorkerCursor)?.height
            return (alerts, nil, stall, checked)
        } catch {
            // Typically the schema is not there yet; reopen next time.
            cache.withLock { $0.store = nil; $0.storeRetryAt = now.advanced(by: .seconds(1)) }
            return ([], "cannot read the alert store: \(error)", nil, nil)
        }
    }

    /// Pure: the status document from a snapshot, the workers' samples and the store's alerts.
    static func build(snapshot: ObservationHub.Snapshot, nodes configured: [String],
                      samples: [(worker: String, sample: ExpositionSample, type: String)],
                      alerts: [StoredAlert], storeProblem: String?, openStall: StoredAlert?, checkedHeight: UInt64?) -> StatusDocument {
        let rows = Dictionary(snapshot.workers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        func age(_ worker: String) -> Double? {
            snapshot.reports[worker].map { ObservationHub.seconds($0.receivedAt.duration(to: snapshot.now)) }
        }
        func fresh(_ worker: String) -> Bool {
            guard rows[worker]?.state == "running", let age = age(worker) else { return false }
            return age < staleAfter
        }

        // Node series by name: node → value (the fork-worker's view when present, else the watcher's own).
        var byName: [String: [String: (value: Double, worker: String)]] = [:]
        var latencySum: [String: Double] = [:]
        var latencyCount: [String: Double] = [:]
        var order = configured
        for (worker, sample, _) in samples {
            guard let node = sample.label("node"), let value = sample.number else { continue }
            if !order.contains(node), sample.name.hasPrefix("chain_alerter_watcher_") || sample.name.hasPrefix("chain_alerter_node_") {
                order.append(node)
            }
            switch sample.name {
            case "chain_alerter_watcher_rpc_latency_sum": latencySum[node, default: 0] += value
            case "chain_alerter_watcher_rpc_latency_count": latencyCount[node, default: 0] += value
            default: byName[sample.name, default: [:]][node] = (value, worker)
            }
        }
        func value(_ name: String, _ node: String) -> Double? { byName[name]?[node]?.value }

        var nodeRows: [StatusDocument.Node] = []
        let heights = order.compactMap { value("chain_alerter_node_best_height", $0) ?? value("chain_alerter_watcher_best_height", $0) }
            .filter(\.isFinite)
        let top = heights.max()
        for (position, url) in order.enumerated() {
            let watcher = byName["chain_alerter_watcher_best_height"]?[url]?.worker ?? byName["chain_alerter_watcher_connected"]?[url]?.worker
            let height = (value("chain_alerter_node_best_height", url) ?? value("chain_alerter_watcher_best_height", url)).flatMap { $0.isFinite ? $0 : nil }
            let lag = value("chain_alerter_node_lag_blocks", url) ?? {
                guard let height, let top else { return nil }
                return top - height
            }()
            let latency = value("chain_alerter_node_rpc_latency_seconds", url) ?? {
                guard let sum = latencySum[url], let count = latencyCount[url], count > 0, sum.isFinite else { return nil }
                return sum / count
            }()
            let connected: Bool = {
                if let c = value("chain_alerter_node_connected", url) { return c >= 1 }
                if let c = value("chain_alerter_watcher_connected", url) { return c >= 1 }
                return height != nil
            }()
            let isolated = (value("chain_alerter_node_isolated", url) ?? 0) >= 1
            let primary: Bool = {
                if let p = value("chain_alerter_node_primary", url) { return p >= 1 }
                return position == 0 && !configured.isEmpty && configured[0] == url
            }()
            let reporting = watcher.map(fresh) ?? false
            let state: String
            if watcher == nil && height == nil { state = "unknown" }
            else if !reporting { state = "stale" }
            else if !connected { state = "disconnected" }
            else if isolated { state = "isolated" }
            else { state = "healthy" }
            nodeRows.append(StatusDocument.Node(
                url: url, worker: watcher, height: height.flatMap { $0.isFinite && $0 >= 0 ? UInt64($0) : nil },
                lag: lag.flatMap { $0.isFinite && abs($0) < 1e18 ? Int64($0) : nil },
                latencySeconds: latency.flatMap { $0.isFinite ? $0 : nil }, connected: connected, isolated: isolated, primary: primary, state: state))
        }

        // Best block: the highest height among nodes that count (not isolated).
        let counting = nodeRows.filter { !$0.isolated && $0.height != nil }
        let best = counting.max { ($0.height ?? 0) < ($1.height ?? 0) }
        let bestBlock = StatusDocument.BestBlock(height: best?.height, node: best?.url, checkedHeight: checkedHeight)

        // Open conditions: the alert-worker's gauges when present; else what the store and the node table say.
        var conditions: [StatusDocument.Condition] = []
        let openGauges = samples.filter { $0.sample.name == "chain_alerter_condition_open" }
        if !openGauges.isEmpty {
            for (_, sample, _) in openGauges where (sample.number ?? 0) >= 1 {
                conditions.append(.init(kind: sample.label("kind") ?? "unknown", node: sample.label("node"), since: nil, detail: nil))
            }
        } else {
            if let stall = openStall {
                conditions.append(.init(kind: AlertKind.blockStall.rawValue, node: nil, since: isoDate(stall.createdAt),
                                        detail: "alert \(stall.payload.id)"))
            }
            for node in nodeRows where node.isolated {
                conditions.append(.init(kind: AlertKind.nodeIsolated.rawValue, node: node.url, since: nil, detail: nil))
            }
            for node in nodeRows where !node.connected && node.worker != nil {
                conditions.append(.init(kind: AlertKind.nodeDisconnected.rawValue, node: node.url, since: nil, detail: nil))
            }
        }

        let workerRows = snapshot.workers.map { row in
            StatusDocument.Worker(name: row.name, role: row.role.rawValue, pid: row.pid, state: row.state,
                                  uptimeSeconds: row.uptimeSeconds, restarts: row.restarts, lastExit: row.lastExit,
                                  heartbeatAgeSeconds: age(row.name))
        }
        let recent = alerts.map { alert in
            StatusDocument.Alert(rowId: alert.rowID, id: alert.payload.id, kind: alert.payload.kind.rawValue,
                                 severity: alert.payload.severity.rawValue, createdAt: isoDate(alert.createdAt),
                                 payload: (try? JSONDecoder().decode(JSONFragment.self, from: alert.payloadJSON)) ?? .null)
        }

        // Health: every worker running, and at least one node connected, reporting and not isolated.
        var reasons: [String] = []
        if !snapshot.published { reasons.append("the supervisor has not started its workers yet") }
        if snapshot.shuttingDown { reasons.append("the supervisor is shutting down") }
        for row in snapshot.workers where row.state != "running" {
            reasons.append("worker \(row.name) is \(row.state)" + (row.lastExit.map { " (last exit: \($0))" } ?? ""))
        }
        if !nodeRows.contains(where: { $0.state == "healthy" }) {
            let detail = nodeRows.map { "\($0.url) \($0.state)" }.joined(separator: ", ")
            reasons.append("no healthy node" + (detail.isEmpty ? "" : " (\(detail))"))
        }
        let health = StatusDocument.Health(healthy: reasons.isEmpty, reasons: reasons)

        return StatusDocument(
            generatedAt: isoDate(Date()), health: health,
            supervisor: .init(pid: getpid(), uptimeSeconds: snapshot.supervisorUptime, shuttingDown: snapshot.shuttingDown),
            workers: workerRows, nodes: nodeRows, bestBlock: bestBlock, openConditions: conditions,
            recentAlerts: recent, storeProblem: storeProblem)
    }

    static func isoDate(_ date: Date) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
    }

    static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(value)) ?? Data("{}".utf8))
    }
}

/// `/status` (and, in part, `/health`). Keys are snake_case in JSON (explicit `CodingKeys`: a key strategy
/// would also rewrite the keys inside the embedded alert payloads).
struct StatusDocument: Encodable, Sendable {
    struct Health: Encodable, Sendable {
        var healthy: Bool
        var reasons: [String]
    }

    struct Supervisor: Encodable, Sendable {
        var pid: Int32
        var uptimeSeconds: Double
        var shuttingDown: Bool

        enum CodingKeys: String, CodingKey {
            case pid
            case uptimeSeconds = "uptime_seconds"
            case shuttingDown = "shutting_down"
        }
    }

    struct Worker: Encodable, Sendable {
        var name: String
        var role: String
        var pid: Int32?
        var state: String
        var uptimeSeconds: Double?
        var restarts: Int
        var lastExit: String?
        var heartbeatAgeSeconds: Double?

        enum CodingKeys: String, CodingKey {
            case name
            case role
            case pid
            case state
            case uptimeSeconds = "uptime_seconds"
            case restarts
            case lastExit = "last_exit"
            case heartbeatAgeSeconds = "heartbeat_age_seconds"
        }
    }

    struct Node: Encodable, Sendable {
        var url: String
        var worker: String?
        var height: UInt64?
        var lag: Int64?
        var latencySeconds: Double?
        var connected: Bool
        var isolated: Bool
        var primary: Bool
        /// `healthy`, `isolated`, `disconnected`, `stale` (no recent report) or `unknown`.
        var state: String

        enum CodingKeys: String, CodingKey {
            case url
            case worker
            case height
            case lag
            case latencySeconds = "latency_seconds"
            case connected
            case isolated
            case primary
            case state
        }
    }

    struct BestBlock: Encodable, Sendable {
        var height: UInt64?
        var node: String?
        /// The alert-worker's cursor: the highest block checked for alerts.
        var checkedHeight: UInt64?

        enum CodingKeys: String, CodingKey {
            case height
            case node
            case checkedHeight = "checked_height"
        }
    }

    struct Condition: Encodable, Sendable {
        var kind: String
        var node: String?
        var since: String?
        var detail: String?
    }

    struct Alert: Encodable, Sendable {
        var rowId: Int64
        var id: String
        var kind: String
        var severity: String
        var createdAt: String
        /// The alert as webhooks receive it (INTERFACE.md).
        var payload: JSONFragment

        enum CodingKeys: String, CodingKey {
            case rowId = "row_id"
            case id
            case kind
            case severity
            case createdAt = "created_at"
            case payload
        }
    }

    var generatedAt: String
    var health: Health
    var supervisor: Supervisor
    var workers: [Worker]
    var nodes: [Node]
    var bestBlock: BestBlock
    var openConditions: [Condition]
    var recentAlerts: [Alert]
    var storeProblem: String?

    enum CodingKeys: String, CodingKey {
        case generatedAt = "generated_at"
        case health
        case supervisor
        case workers
        case nodes
        case bestBlock = "best_block"
        case openConditions = "open_conditions"
        case recentAlerts = "recent_alerts"
        case storeProblem = "store_problem"
    }
}

/// Any JSON value, decoded and encoded again as it was (the stored alert payload inside `/status`).
indirect enum JSONFragment: Codable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case unsigned(UInt64)
    case number(Double)
    case string(String)
    case array([JSONFragment])
    case object([String: JSONFragment])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let b = try? container.decode(Bool.self) { self = .bool(b) }
        else if let i = try? container.decode(Int64.self) { self = .integer(i) }
        else if let u = try? container.decode(UInt64.self) { self = .unsigned(u) }
        else if let n = try? container.decode(Double.self) { self = .number(n) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let a = try? container.decode([JSONFragment].self) { self = .array(a) }
        else { self = .object(try container.decode([String: JSONFragment].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .integer(let i): try container.encode(i)
        case .unsigned(let u): try container.encode(u)
        case .number(let n): try container.encode(n)
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }
}
