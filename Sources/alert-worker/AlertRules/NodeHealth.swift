import SubstrateRuntime
import SubstratePrimitives
import Store
import Wire
import WorkerRuntime

/// What the alert-worker last alerted about each node: whether it is isolated or disconnected, and the episode
/// numbers that make the alert ids stable (`NodeIsolated:<network>:<url>:<episode>`). Persisted with the rule
/// state, in the same transaction as the alerts, so a verdict delivered again after a restart never alerts twice.
package struct NodeHealthBook: Sendable, Equatable, Codable {
    package struct Node: Sendable, Equatable, Codable {
        package var isolated = false
        /// `lag`, `latency` or `manual` while isolated.
        package var reason = ""
        package var isolationEpisode: UInt64 = 0
        package var isolatedAt: UInt64 = 0
        package var disconnected = false
        package var disconnectEpisode: UInt64 = 0
        package var disconnectedAt: UInt64 = 0
    }

    package var nodes: [String: Node] = [:]

    package var isolatedNodes: Set<String> { Set(nodes.filter { $0.value.isolated }.map(\.key)) }
}

extension AlertRuleEngine {
    /// A `NodeVerdict` from the fork-worker: NodeIsolated / NodeRecovered / NodeDisconnected / NodeReconnected
    /// when it differs from what was last alerted. While a node is isolated its own BlockStall is suppressed.
    package mutating func apply(verdict v: NodeVerdict, at ms: UInt64) -> Outcome {
        var out = Outcome()
        var book = state.health ?? NodeHealthBook()
        var n = book.nodes[v.node] ?? NodeHealthBook.Node()
        let f = factory
        let stamp = BlockStamp(height: v.bestHeight ?? 0, hash: [], chainTime: nil, localTime: ms, slot: nil)
        var common: [String: AlertFieldValue] = [
            "primary": .bool(v.primary),
            "lag_blocks": v.lagBlocks.map { .int(Int64(clamping: $0)) } ?? .null,
            "rpc_latency_ms": v.rpcLatencyMilliseconds.map { .int(Int64($0)) } ?? .null,
            "best_node_height": v.bestNodeHeight.map { .int(Int64(clamping: $0)) } ?? .null,
        ]
        if !v.detail.isEmpty { common["detail"] = .string(v.detail) }
        func facts() -> String {
            var lines: [String] = ["Node: \(v.node)"]
            if let lag = v.lagBlocks { lines.append("Lag: \(lag) block\(lag == 1 ? "" : "s") behind the best node (\(v.bestNodeHeight.map(String.init) ?? "?"))") }
            if let latency = v.rpcLatencyMilliseconds { lines.append("RPC latency: \(AlertText.duration(milliseconds: UInt64(latency)))") }
            if let height = v.bestHeight { lines.append("Node best height: \(height)") }
            if !v.detail.isEmpty { lines.append("Detail: \(v.detail)") }
            return lines.joined(separator: "\n")
        }
        func alert(_ kind: AlertKind, episode: UInt64, title: String, body: String, fields: [String: AlertFieldValue]) -> AlertPayload {
            let id = "\(kind.rawValue):\(f.network.idTag):\(v.node):\(episode)"
            return Self.withoutUnknownBlock(f.alert(kind, id: id, block: stamp, mode: .current, node: v.node, title: title, body: body,
                                                    fields: common.merging(fields) { _, new in new }, observedAtMilliseconds: ms))
        }
        if v.isolated && !n.isolated {
            n.isolated = true
            n.isolationEpisode += 1
            n.isolatedAt = ms
            n.reason = v.reason.description
            let why: String = switch v.reason {
            case .lag: "it is \(v.lagBlocks.map(String.init) ?? "too many") blocks behind the best node (limit \(factory.network.thresholds.nodeLagIsolate))"
            case .latency: "its RPC latency stayed above \(AlertText.duration(milliseconds: UInt64(max(0, Self.durationMs(factory.network.thresholds.nodeLatencyIsolate)))))"
            case .manual: "an operator isolated it (supervisor ctl isolate)"
            case .none: "the fork-worker isolated it"
            }
            out.alerts.append(alert(.nodeIsolated, episode: n.isolationEpisode, title: "Node isolated",
                                    body: "Its blocks no longer count toward the best block and its stall alerts are suppressed: \(why).\n\(facts())",
                                    fields: ["reason": .string(v.reason.description), "episode": .int(Int64(clamping: n.isolationEpisode))]))
        } else if !v.isolated && n.isolated {
            n.isolated = false
            let duration = ms >= n.isolatedAt ? ms - n.isolatedAt : 0
            out.alerts.append(alert(.nodeRecovered, episode: n.isolationEpisode, title: "Node recovered",
                                    body: "Isolated for \(AlertText.duration(milliseconds: duration)) (\(n.reason)); its blocks count again.\n\(facts())",
                                    fields: ["reason": .string(n.reason), "isolated_ms": .int(Int64(clamping: duration)),
                                             "episode": .int(Int64(clamping: n.isolationEpisode))]))
            n.reason = ""
        }
        if !v.connected && !n.disconnected {
            n.disconnected = true
            n.disconnectEpisode += 1
            n.disconnectedAt = ms
            out.alerts.append(alert(.nodeDisconnected, episode: n.disconnectEpisode, title: "Node disconnected",
                                    body: "The node has been unreachable (or its watcher silent) for longer than the debounce time.\n\(facts())",
                                    fields: ["episode": .int(Int64(clamping: n.disconnectEpisode))]))
        } else if v.connected && n.disconnected {
            n.disconnected = false
            let duration = ms >= n.disconnectedAt ? ms - n.disconnectedAt : 0
            out.alerts.append(alert(.nodeReconnected, episode: n.disconnectEpisode, title: "Node reconnected",
                                    body: "Connected and stable again after \(AlertText.duration(milliseconds: duration)).\n\(facts())",
                                    fields: ["disconnected_ms": .int(Int64(clamping: duration)), "episode": .int(Int64(clamping: n.disconnectEpisode))]))
        }
        book.nodes[v.node] = n
        state.health = book
        state.stall.setIsolated(v.node, n.isolated)
        return out
    }

    /// WorkerRestarted: id stable per run, worker and restart number, so a notice re-sent to a new alert-worker
    /// process is stored once.
    package func workerRestarted(worker: String, restart: Int, lastExit: String, at ms: UInt64) -> Outcome {
        let f = factory
        let id = "WorkerRestarted:\(runID):\(worker):\(restart)"
        let stamp = BlockStamp(height: 0, hash: [], chainTime: nil, localTime: ms, slot: nil)
        var alert = f.alert(.workerRestarted, id: id, block: stamp, mode: .current, node: nil, title: "Worker restarted",
                            body: "The supervisor restarted \(worker) (restart \(restart) in this run) after: \(lastExit)",
                            fields: ["worker": .string(worker), "restart": .int(Int64(restart)), "last_exit": .string(lastExit)],
                            observedAtMilliseconds: ms)
        alert = Self.withoutUnknownBlock(alert)
        alert.fields["height"] = nil
        return Outcome(alerts: [alert])
    }

    package static func durationMs(_ d: Duration) -> Int64 {
        d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    }
}
