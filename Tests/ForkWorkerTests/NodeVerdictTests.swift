import Testing
@testable import fork_worker
@testable import ForkChoice
@testable import alert_worker
@testable import AlertRules
@testable import devnode
@testable import node_watcher
@testable import Store
@testable import SubstrateRuntime
@testable import SubstratePrimitives
@testable import WorkerRuntime
@testable import Wire
import TestKit

/// The roster's verdicts with injected time (milliseconds): lag, latency, recovery, debounced connectivity,
/// manual isolation, and what they do to the primary. No sleeping.
@Suite("NodeVerdicts")
struct NodeVerdictTests {
    static let urls = ["ws://a", "ws://b", "ws://c"]

    static func settings() -> NodeRoster.Settings {
        var s = NodeRoster.Settings(lagIsolate: 10)
        s.latencyIsolateMilliseconds = 500
        s.latencySustainMilliseconds = 3000
        s.lagSustainMilliseconds = 1000
        s.recoverAfterMilliseconds = 5000
        s.disconnectAfterMilliseconds = 10_000
        s.reconnectStableMilliseconds = 5000
        s.staleAfterMilliseconds = 5000
        s.settleMilliseconds = 0
        return s
    }

    /// Feeds a status for every node each second from `from` to `to` (inclusive) and collects the changes.
    struct Feed {
        var roster = NodeRoster(urls: NodeVerdictTests.urls, settings: NodeVerdictTests.settings())
        var changes: [NodeRoster.Change] = []

        mutating func second(_ t: Int64, heights: [UInt64?], latency: [UInt32] = [10, 10, 10], connected: [Bool] = [true, true, true]) {
            // New heads arrive as they happen (BlockSeen), statuses once a second.
            for (i, url) in NodeVerdictTests.urls.enumerated() {
                if let h = heights[i] { roster.observeHead(node: url, height: h) }
            }
            for (i, url) in NodeVerdictTests.urls.enumerated() {
                guard let h = heights[i] else { continue }
                changes += roster.update(NodeStatus(node: url, connected: connected[i], bestHeight: h, rpcLatencyMilliseconds: latency[i],
                                                    observedAtMilliseconds: 0), routingID: nil, now: t)
            }
            changes += roster.evaluate(now: t)
        }

        func verdictChanges() -> [NodeRoster.Change] { changes.filter { if case .settled = $0 { false } else { true } } }
    }

    @Test func aLaggingNodeIsIsolatedAfterTheSustainTimeAndRecoversAfterCatchingUpForLongEnough() {
        var feed = Feed()
        // b lags 15 blocks from t = 0; a is primary throughout.
        for t in stride(from: Int64(0), through: 900, by: 100) { feed.second(t, heights: [100, 85, 100]) }
        #expect(feed.verdictChanges().isEmpty, "a lag shorter than the sustain time isolates nothing")
        feed.second(1000, heights: [100, 85, 100])
        #expect(feed.verdictChanges() == [.isolated(node: 1, reason: .lag)])
        #expect(feed.roster.entries[1].lagBlocks == 15)
        #expect(feed.roster.isIsolated(1))
        #expect(feed.roster.ignoresHeaders(from: 1, now: 1000))
        #expect(!feed.roster.ignoresHeaders(from: 0, now: 1000))
        let v = feed.roster.verdict(1, now: 1000, wallClockMilliseconds: 42)
        #expect(v.isolated && v.reason == .lag && v.lagBlocks == 15 && v.bestNodeHeight == 100 && !v.primary)
        // Caught up at 2000, but dropping back at 4000 restarts the recovery clock.
        feed.changes = []
        feed.second(2000, heights: [110, 105, 110])
        feed.second(4000, heights: [120, 105, 120])
        feed.second(5000, heights: [130, 128, 130])
        feed.second(9000, heights: [170, 169, 170])
        #expect(feed.verdictChanges().isEmpty, "recovered only after recover_after of continuous health")
        feed.second(10_000, heights: [180, 180, 180])
        #expect(feed.verdictChanges() == [.restored(node: 1, was: .lag)])
        #expect(!feed.roster.isIsolated(1))
    }

    @Test func sustainedHighLatencyIsolatesAndAShortSpikeDoesNot() {
        var feed = Feed()
        // A spike of 2 s on c: nothing.
        feed.second(0, heights: [100, 100, 100], latency: [10, 10, 900])
        feed.second(2000, heights: [100, 100, 100], latency: [10, 10, 900])
        feed.second(2500, heights: [100, 100, 100], latency: [10, 10, 20])
        #expect(feed.verdictChanges().isEmpty)
        // Slow from 3000 on: isolated at 6000 (3 s sustained), recovered 5 s after it is fast again.
        for t in stride(from: Int64(3000), through: 5900, by: 100) { feed.second(t, heights: [100, 100, 100], latency: [10, 10, 900]) }
        #expect(feed.verdictChanges().isEmpty)
        feed.second(6000, heights: [100, 100, 100], latency: [10, 10, 900])
        #expect(feed.verdictChanges() == [.isolated(node: 2, reason: .latency)])
        feed.changes = []
        feed.second(7000, heights: [100, 100, 100], latency: [10, 10, 30])
        feed.second(11_999, heights: [100, 100, 100], latency: [10, 10, 30])
        #expect(feed.verdictChanges().isEmpty)
        feed.second(12_000, heights: [100, 100, 100], latency: [10, 10, 30])
        #expect(feed.verdictChanges() == [.restored(node: 2, was: .latency)])
    }

    @Test func disconnectsAreDebouncedBlipsSayNothing() {
        var feed = Feed()
        feed.second(0, heights: [100, 100, 100])
        // A 3 s blip on a: nothing at all.
        feed.second(1000, heights: [100, 100, 100], connected: [false, true, true])
        feed.second(4000, heights: [100, 100, 100], connected: [false, true, true])
        feed.second(5000, heights: [100, 100, 100])
        #expect(feed.verdictChanges().isEmpty)
        // Down from 6000: NodeDisconnected at 16000, not before; the primary moves at once.
        feed.second(6000, heights: [100, 100, 100], connected: [false, true, true])
        #expect(feed.roster.primary(now: 6000) == 1)
        feed.second(15_999, heights: [100, 100, 100], connected: [false, true, true])
        #expect(feed.verdictChanges().isEmpty)
        feed.second(16_000, heights: [100, 100, 100], connected: [false, true, true])
        #expect(feed.verdictChanges() == [.disconnected(node: 0)])
        #expect(!feed.roster.verdict(0, now: 16_000, wallClockMilliseconds: 0).connected)
        // Back, but flapping within 5 s: no NodeReconnected until 5 s of stability.
        feed.changes = []
        feed.second(17_000, heights: [100, 100, 100])
        #expect(feed.roster.primary(now: 17_000) == 0, "fail-back as soon as it is up and not isolated")
        feed.second(19_000, heights: [100, 100, 100], connected: [false, true, true])
        feed.second(20_000, heights: [100, 100, 100])
        feed.second(24_999, heights: [100, 100, 100])
        #expect(feed.verdictChanges().isEmpty)
        feed.second(25_000, heights: [100, 100, 100])
        #expect(feed.verdictChanges() == [.reconnected(node: 0)])
    }

    @Test func aSilentWatcherCountsAsDownAndANodeThatNeverConnectsIsAnnounced() {
        var roster = NodeRoster(urls: Self.urls, settings: Self.settings(), now: 0)
        var changes: [NodeRoster.Change] = []
        for t in stride(from: Int64(0), through: 20_000, by: 1000) {
            // a reports until 2000 then goes silent (its watcher was killed); b always; c never.
            if t <= 2000 { changes += roster.update(NodeStatus(node: "ws://a", connected: true, bestHeight: 10, rpcLatencyMilliseconds: 1, observedAtMilliseconds: 0), routingID: nil, now: t) }
            changes += roster.update(NodeStatus(node: "ws://b", connected: true, bestHeight: 10, rpcLatencyMilliseconds: 1, observedAtMilliseconds: 0), routingID: nil, now: t)
            changes += roster.evaluate(now: t)
            if t == 7000 { #expect(roster.primary(now: t) == 0, "a is not stale yet at exactly 5 s") }
            if t == 8000 { #expect(roster.primary(now: t) == 1, "a is stale after 5 s") }
        }
        let down = changes.filter { if case .disconnected = $0 { true } else { false } }
        // c: down since the start → announced at 10 s; a: stale at 7001+ → down since 8000 → announced at 18 s.
        #expect(down == [.disconnected(node: 2), .disconnected(node: 0)])
    }

    @Test func manualIsolationStaysUntilRestoredAndMovesThePrimary() {
        var feed = Feed()
        feed.second(0, heights: [100, 100, 100])
        #expect(feed.roster.primary(now: 0) == 0)
        #expect(feed.roster.isolate(0) == [.isolated(node: 0, reason: .manual)])
        #expect(feed.roster.isolate(0) == [], "isolating twice changes nothing")
        #expect(feed.roster.primary(now: 0) == 1)
        // Healthy for a long time: a manual isolation is never lifted automatically.
        for t in stride(from: Int64(1000), through: 60_000, by: 1000) { feed.second(t, heights: [100, 100, 100]) }
        #expect(feed.verdictChanges().isEmpty)
        #expect(feed.roster.verdict(0, now: 60_000, wallClockMilliseconds: 0).reason == .manual)
        #expect(feed.roster.restore(0) == [.restored(node: 0, was: .manual)])
        #expect(feed.roster.restore(0) == [])
        #expect(feed.roster.primary(now: 60_000) == 0, "fail-back after restore")
        // A node isolated for lag and then by hand keeps the manual reason; restore lifts it.
        feed.changes = []
        for t in stride(from: Int64(61_000), through: 63_000, by: 1000) { feed.second(t, heights: [100, 80, 100]) }
        #expect(feed.verdictChanges() == [.isolated(node: 1, reason: .lag)])
        #expect(feed.roster.isolate(1) == [.isolated(node: 1, reason: .manual)])
        #expect(feed.roster.index(of: "node-watcher-1") == 1)
        #expect(feed.roster.index(of: "ws://nope") == nil)
    }

    @Test func everyNodeIsolatedStillLeavesAPrimaryAndHeadersAreUsed() {
        var feed = Feed()
        feed.second(0, heights: [100, 100, 100])
        _ = feed.roster.isolate(0)
        _ = feed.roster.isolate(1)
        _ = feed.roster.isolate(2)
        #expect(feed.roster.primary(now: 0) == 0)
        #expect(!feed.roster.ignoresHeaders(from: 0, now: 0))
    }

    @Test func theFirstVerdictWaitsForTheSettleTime() {
        var s = Self.settings()
        s.settleMilliseconds = 3000
        s.lagSustainMilliseconds = 0
        var roster = NodeRoster(urls: Self.urls, settings: s, now: 0)
        var changes: [NodeRoster.Change] = []
        for t in stride(from: Int64(0), through: 2900, by: 100) {
            for (url, h) in zip(Self.urls, [100, 80, 100] as [UInt64]) {
                changes += roster.update(NodeStatus(node: url, connected: true, bestHeight: h, rpcLatencyMilliseconds: 1, observedAtMilliseconds: 0), routingID: nil, now: t)
            }
        }
        #expect(changes.isEmpty, "nothing is published before the settle time")
        #expect(roster.isIsolated(1), "but the verdict already applies")
        changes += roster.evaluate(now: 3000)
        #expect(changes.count == 3)
        #expect(changes.contains(.isolated(node: 1, reason: .lag)) || changes.contains(.settled(node: 1)))
        #expect(roster.verdict(1, now: 3000, wallClockMilliseconds: 0).isolated)
    }
}
