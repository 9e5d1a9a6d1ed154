import ForkChoice
import WorkerRuntime
import Wire
import SubstrateRuntime
import SubstratePrimitives

/// The nodes in configuration order, what their watchers last said about them, the verdict on each (isolated
/// or not, debounced connectivity), and which one is the primary now: the first configured node that is
/// connected, reporting and not isolated.
///
/// The verdict lives here rather than in the supervisor because the fork-worker already sees every
/// `NodeStatus` and every header of every node, in real time, and is the process whose decisions (best block,
/// primary, fetch targets) the verdict changes (docs/DESIGN.md "Node isolation").
///
/// Pure: time comes in as milliseconds; `evaluate(now:)` returns what changed.
struct NodeRoster: Sendable {
    /// Thresholds and debounce times (defaults are production's; INTERFACE `[alerts]` sets the first three).
    struct Settings: Sendable, Equatable {
        /// More than this many blocks behind the best node: isolated (`node_lag_isolate`).
        var lagIsolate: UInt64 = 10
        /// RPC latency above this, sustained for `latencySustainMilliseconds`: isolated (`node_latency_isolate`).
        var latencyIsolateMilliseconds: Int64 = 5000
        /// Caught up and fast for this long: an automatic isolation is lifted (`node_recover_after`).
        var recoverAfterMilliseconds: Int64 = 30_000
        /// How long a lag must last before it isolates (a burst of gap-filled headers is not a lag).
        var lagSustainMilliseconds: Int64 = 2000
        var latencySustainMilliseconds: Int64 = 10_000
        /// Down (disconnected, or its watcher silent) for this long: NodeDisconnected. Shorter blips say nothing.
        var disconnectAfterMilliseconds: Int64 = 10_000
        /// Up again and stable for this long after a NodeDisconnected: NodeReconnected.
        var reconnectStableMilliseconds: Int64 = 5000
        /// A watcher silent for longer than this counts as down.
        var staleAfterMilliseconds: Int64 = 5000
        /// A node's first verdict is published only after this long (every watcher has reported by then), so a
        /// restarted fork-worker does not announce "healthy" for a node it has not heard from yet.
        var settleMilliseconds: Int64 = 3000

        init(lagIsolate: Int = 10) {
            self.lagIsolate = UInt64(max(1, lagIsolate))
        }

        init(thresholds: AlertThresholds) {
            self.init(lagIsolate: thresholds.nodeLagIsolate)
            latencyIsolateMilliseconds = Self.milliseconds(thresholds.nodeLatencyIsolate)
            recoverAfterMilliseconds = Self.milliseconds(thresholds.nodeRecoverAfter)
        }

        static func milliseconds(_ d: Duration) -> Int64 {
            d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
        }
    }

    /// A node's latest status, the watcher's routing id on the fetch socket, and the verdict.
    struct Entry: Sendable {
        var url: String
        var routingID: [UInt8]?
        var status: NodeStatus?
        var statusAtMilliseconds: Int64 = 0
        /// The newest new-head height (from BlockSeen or NodeStatus, whichever came last).
        var height: UInt64?
        /// `.none` while the node counts; else why it is isolated.
        var isolation: IsolationReason = .none
        /// Blocks behind the best node at the last evaluation (nil while down or unknown).
        var lagBlocks: UInt64?
        var lagSince: Int64?
        var slowSince: Int64?
        var goodSince: Int64?
        /// Debounced connectivity: true once NodeDisconnected was announced, until NodeReconnected.
        var announcedDown = false
        var downSince: Int64?
        var upSince: Int64?
        /// The verdict has been published at least once.
        var published = false
    }

    /// A change of verdict, returned by `evaluate`, `isolate` and `restore`.
    enum Change: Sendable, Equatable {
        case isolated(node: Int, reason: IsolationReason)
        case restored(node: Int, was: IsolationReason)
        case disconnected(node: Int)
        case reconnected(node: Int)
        /// The node's first verdict (after the settle time): whatever its state, the alert-worker compares.
        case settled(node: Int)

        var node: Int {
            switch self {
            case .isolated(let n, _), .restored(let n, _), .disconnected(let n), .reconnected(let n), .settled(let n): n
            }
        }
    }

    private(set) var entries: [Entry]
    var settings: Settings
    let createdAtMilliseconds: Int64

    init(urls: [String], settings: Settings, now: Int64 = 0) {
        entries = urls.map { Entry(url: $0, downSince: now) }
        self.settings = settings
        createdAtMilliseconds = now
    }

    init(urls: [String], lagIsolate: Int, now: Int64 = 0) {
        self.init(urls: urls, settings: Settings(lagIsolate: lagIsolate), now: now)
    }

    /// The index of a node by URL, or by the watcher's worker name `node-watcher-N`.
    func index(of node: String) -> Int? {
        if let i = entries.firstIndex(where: { $0.url == node }) { return i }
        if node.hasPrefix("node-watcher-"), let n = Int(node.dropFirst("node-watcher-".count)), entries.indices.contains(n) { return n }
        return nil
    }

    /// Records a status, and the routing id it came from when it came over the fetch socket.
    @discardableResult
    mutating func update(_ status: NodeStatus, routingID: [UInt8]?, now: Int64) -> [Change] {
        var i = index(of: status.node)
        if i == nil, let routingID { i = index(of: String(decoding: routingID, as: UTF8.self)) }
        guard let i else { return [] }
        entries[i].status = status
        entries[i].statusAtMilliseconds = now
        if let height = status.bestHeight { entries[i].height = height }
        if let routingID { entries[i].routingID = routingID }
        return evaluate(now: now)
    }

    /// A new head seen on a node's new-heads subscription: its height counts at once (a status is up to a
    /// second old, which at short block times would look like lag).
    mutating func observeHead(node: String, height: UInt64) {
        guard let i = index(of: node) else { return }
        entries[i].height = height
    }

    /// Connected, and its watcher reported within the staleness limit.
    func isUp(_ i: Int, now: Int64) -> Bool {
        let entry = entries[i]
        guard let status = entry.status, status.connected, now - entry.statusAtMilliseconds <= settings.staleAfterMilliseconds else { return false }
        return true
    }

    func isHealthy(_ i: Int, now: Int64) -> Bool {
        isUp(i, now: now) && entries[i].isolation == .none
    }

    func isIsolated(_ i: Int) -> Bool { entries[i].isolation != .none }

    /// The best height among nodes that are up and not isolated (all up nodes when every one is isolated).
    func bestNodeHeight(now: Int64) -> UInt64? {
        let up = entries.indices.filter { isUp($0, now: now) }
        let healthy = up.filter { entries[$0].isolation == .none }
        return (healthy.isEmpty ? up : healthy).compactMap { entries[$0].height }.max()
    }

    /// The primary's index: the first healthy node; the first configured node when none reports yet.
    func primary(now: Int64) -> Int {
        entries.indices.first { isHealthy($0, now: now) } ?? 0
    }

    /// Whether headers from this node should be ignored for best-block decisions: it is isolated and at least
    /// one other node is healthy.
    func ignoresHeaders(from i: Int, now: Int64) -> Bool {
        isIsolated(i) && entries.indices.contains { $0 != i && isHealthy($0, now: now) }
    }

    /// Routing ids to try for a fetch, best first: healthy nodes from the primary on, then the others. A watcher
    /// that has not said hello since this process started (it only does on its own connect) is addressed by
    /// its conventional worker name `node-watcher-N`.
    func fetchTargets(now: Int64) -> [[UInt8]] {
        let healthy = entries.indices.filter { isHealthy($0, now: now) }
        let others = entries.indices.filter { !healthy.contains($0) }
        return (healthy + others).map { entries[$0].routingID ?? Array("node-watcher-\($0)".utf8) }
    }

    // MARK: verdicts

    /// Lag, latency, recovery and connectivity, as of `now`. Returns the changes, in node order.
    mutating func evaluate(now: Int64) -> [Change] {
        var changes: [Change] = []
        // Lag is measured against every node that is up (an isolated node far ahead would still be the best
        // evidence of the chain's height; one behind never raises the bar).
        let top = entries.indices.filter { isUp($0, now: now) }.compactMap { entries[$0].height }.max()
        for i in entries.indices {
            let up = isUp(i, now: now)
            var e = entries[i]
            // Connectivity, debounced.
            if up {
                e.downSince = nil
                if e.announcedDown {
                    if e.upSince == nil { e.upSince = now }
                    if let since = e.upSince, now - since >= settings.reconnectStableMilliseconds {
                        e.announcedDown = false
                        e.upSince = nil
                        changes.append(.reconnected(node: i))
                    }
                }
            } else {
                e.upSince = nil
                if e.downSince == nil { e.downSince = now }
                if !e.announcedDown, let since = e.downSince, now - since >= settings.disconnectAfterMilliseconds {
                    e.announcedDown = true
                    changes.append(.disconnected(node: i))
                }
            }
            // Lag and latency.
            if up, let top, let height = e.height {
                e.lagBlocks = top > height ? top - height : 0
            } else {
                e.lagBlocks = nil
            }
            let lagging = (e.lagBlocks ?? 0) > settings.lagIsolate
            e.lagSince = lagging ? (e.lagSince ?? now) : nil
            let slow = up && Int64(e.status?.rpcLatencyMilliseconds ?? 0) > settings.latencyIsolateMilliseconds
            e.slowSince = slow ? (e.slowSince ?? now) : nil
            switch e.isolation {
            case .manual:
                e.goodSince = nil
            case .none:
                e.goodSince = nil
                if let since = e.lagSince, now - since >= settings.lagSustainMilliseconds {
                    e.isolation = .lag
                } else if let since = e.slowSince, now - since >= settings.latencySustainMilliseconds {
                    e.isolation = .latency
                }
                if e.isolation != .none { changes.append(.isolated(node: i, reason: e.isolation)) }
            case .lag, .latency:
                let good = up && !lagging && !slow
                e.goodSince = good ? (e.goodSince ?? now) : nil
                if let since = e.goodSince, now - since >= settings.recoverAfterMilliseconds {
                    let was = e.isolation
                    e.isolation = .none
                    e.goodSince = nil
                    changes.append(.restored(node: i, was: was))
                }
            }
            // The first verdict, once the watchers have had time to report.
            if !e.published, now - createdAtMilliseconds >= settings.settleMilliseconds {
                e.published = true
                if !changes.contains(where: { $0.node == i }) { changes.append(.settled(node: i)) }
            }
            entries[i] = e
        }
        // Changes before a node's first verdict are not announced on their own: the settle publishes the state.
        return changes.filter { entries[$0.node].published }
    }

    /// `ctl isolate`: the node is isolated until `restore`, whatever its lag and latency.
    mutating func isolate(_ i: Int) -> [Change] {
        let was = entries[i].isolation
        entries[i].isolation = .manual
        entries[i].goodSince = nil
        entries[i].published = true
        return was == .manual ? [] : [.isolated(node: i, reason: .manual)]
    }

    /// `ctl restore`: lifts any isolation at once (a node still lagging is isolated again by the next evaluation,
    /// after the lag's sustain time).
    mutating func restore(_ i: Int) -> [Change] {
        let was = entries[i].isolation
        guard was != .none else { return [] }
        entries[i].isolation = .none
        entries[i].lagSince = nil
        entries[i].slowSince = nil
        entries[i].goodSince = nil
        entries[i].published = true
        return [.restored(node: i, was: was)]
    }

    /// The verdict on node `i` as sent to the alert-worker.
    func verdict(_ i: Int, now: Int64, wallClockMilliseconds: UInt64, detail: String = "") -> NodeVerdict {
        let e = entries[i]
        return NodeVerdict(node: e.url, isolated: e.isolation != .none, reason: e.isolation, connected: !e.announcedDown,
                           primary: primary(now: now) == i, lagBlocks: e.lagBlocks, rpcLatencyMilliseconds: e.status?.rpcLatencyMilliseconds,
                           bestHeight: e.height, bestNodeHeight: bestNodeHeight(now: now),
                           detail: detail.isEmpty ? (e.status?.detail ?? "") : detail, observedAtMilliseconds: wallClockMilliseconds)
    }
}
