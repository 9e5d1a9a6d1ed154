import Shared

/// The nodes in configuration order, what their watchers last said about them, and which one is the
/// primary now: the first configured node that is connected, reporting, and not lagging (isolated).
/// Pure: time comes in as milliseconds.
struct NodeRoster: Sendable {
    /// A node's latest status and the watcher's routing id on the fetch socket.
    struct Entry: Sendable {
        var url: String
        var routingID: [UInt8]?
        var status: NodeStatus?
        var statusAtMilliseconds: Int64 = 0
    }

    private(set) var entries: [Entry]
    /// A watcher silent for longer than this counts as down.
    var staleAfterMilliseconds: Int64 = 5000
    /// A node this many blocks behind the best node is isolated (INTERFACE `node_lag_isolate`).
    var lagIsolate: UInt64

    init(urls: [String], lagIsolate: Int) {
        entries = urls.map { Entry(url: $0) }
        self.lagIsolate = UInt64(max(1, lagIsolate))
    }

    /// The index of a node by URL, or by the watcher's worker name `node-watcher-N`.
    func index(of node: String) -> Int? {
        if let i = entries.firstIndex(where: { $0.url == node }) { return i }
        if node.hasPrefix("node-watcher-"), let n = Int(node.dropFirst("node-watcher-".count)), entries.indices.contains(n) { return n }
        return nil
    }

    /// Records a status, and the routing id it came from when it came over the fetch socket.
    mutating func update(_ status: NodeStatus, routingID: [UInt8]?, now: Int64) {
        var i = index(of: status.node)
        if i == nil, let routingID { i = index(of: String(decoding: routingID, as: UTF8.self)) }
        guard let i else { return }
        entries[i].status = status
        entries[i].statusAtMilliseconds = now
        if let routingID { entries[i].routingID = routingID }
    }

    func isHealthy(_ i: Int, now: Int64) -> Bool {
        let entry = entries[i]
        guard let status = entry.status, status.connected, now - entry.statusAtMilliseconds <= staleAfterMilliseconds else { return false }
        let top = entries.compactMap { e -> UInt64? in
            guard let s = e.status, s.connected, now - e.statusAtMilliseconds <= staleAfterMilliseconds else { return nil }
            return s.bestHeight
        }.max() ?? 0
        if let height = status.bestHeight, height + lagIsolate < top { return false }
        return true
    }

    /// The primary's index: the first healthy node; the first configured node when none reports yet.
    func primary(now: Int64) -> Int {
        entries.indices.first { isHealthy($0, now: now) } ?? 0
    }

    /// Routing ids to try for a fetch, best first: healthy nodes from the primary on, then the others. A watcher
    /// that has not said hello since this process started (it only does on its own connect) is addressed by
    /// its conventional worker name `node-watcher-N`.
    func fetchTargets(now: Int64) -> [[UInt8]] {
        let healthy = entries.indices.filter { isHealthy($0, now: now) }
        let others = entries.indices.filter { !healthy.contains($0) }
        return (healthy + others).map { entries[$0].routingID ?? Array("node-watcher-\($0)".utf8) }
    }
}
