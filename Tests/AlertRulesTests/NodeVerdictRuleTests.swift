import Foundation
import Testing
@testable import AlertRules
@testable import alert_worker
@testable import devnode
@testable import Store
@testable import SubstrateRuntime
@testable import SubstratePrimitives
@testable import WorkerRuntime
@testable import Wire
import TestKit

/// NodeVerdict → NodeIsolated / NodeRecovered / NodeDisconnected / NodeReconnected: once per change, stable
/// ids per episode, the state survives the rule-state codec, and an isolated node's stall is suppressed.
@Suite struct NodeVerdictRuleTests {
    static let node = "ws://node-b:9944"

    static func verdict(isolated: Bool = false, reason: IsolationReason = .none, connected: Bool = true, lag: UInt64? = 0,
                        latency: UInt32? = 12) -> NodeVerdict {
        NodeVerdict(node: node, isolated: isolated, reason: isolated ? reason : .none, connected: connected, primary: false, lagBlocks: lag,
                    rpcLatencyMilliseconds: latency, bestHeight: 85, bestNodeHeight: 100, observedAtMilliseconds: 0)
    }

    @Test func isolationAndRecoveryAlertOncePerEpisodeWithStableIds() throws {
        var e = Fixtures.engine()
        #expect(e.apply(verdict: Self.verdict(), at: 1000).alerts.isEmpty, "a healthy first verdict says nothing")
        let isolated = e.apply(verdict: Self.verdict(isolated: true, reason: .lag, lag: 15), at: 2000).alerts
        #expect(isolated.map(\.kind) == [.nodeIsolated])
        let a = try #require(isolated.first)
        #expect(a.id == "NodeIsolated:91912b429ce7bf29:\(Self.node):1")
        #expect(a.node == Self.node && a.block == nil && a.severity == .critical)
        #expect(a.fields["reason"] == .string("lag") && a.fields["lag_blocks"] == .int(15) && a.fields["rpc_latency_ms"] == .int(12))
        #expect(a.title == "Node isolated")
        #expect(a.text.contains("15 blocks behind the best node") && a.text.contains(Self.node))
        // The same verdict again (re-sent, replayed, fork-worker restarted): nothing.
        #expect(e.apply(verdict: Self.verdict(isolated: true, reason: .lag, lag: 16), at: 3000).alerts.isEmpty)
        // Saved and loaded (a restart of the alert-worker): still nothing for the same state.
        var reloaded = Fixtures.engine()
        reloaded.state = try RuleStateCodec.decode(RuleStateCodec.encode(e.state))
        #expect(reloaded.state == e.state)
        #expect(reloaded.apply(verdict: Self.verdict(isolated: true, reason: .lag), at: 4000).alerts.isEmpty)
        let recovered = reloaded.apply(verdict: Self.verdict(), at: 62_000).alerts
        #expect(recovered.map(\.kind) == [.nodeRecovered])
        #expect(recovered.first?.id == "NodeRecovered:91912b429ce7bf29:\(Self.node):1")
        #expect(recovered.first?.fields["isolated_ms"] == .int(60_000))
        #expect(recovered.first?.severity == .info)
        // A second episode gets new ids.
        let again = reloaded.apply(verdict: Self.verdict(isolated: true, reason: .manual), at: 70_000).alerts
        #expect(again.map(\.id) == ["NodeIsolated:91912b429ce7bf29:\(Self.node):2"])
        #expect(again.first?.fields["reason"] == .string("manual"))
        #expect(again.first?.text.contains("supervisor ctl isolate") == true)
    }

    @Test func disconnectAndReconnectAlertOnceEach() {
        var e = Fixtures.engine()
        let down = e.apply(verdict: Self.verdict(connected: false, lag: nil, latency: nil), at: 10_000).alerts
        #expect(down.map(\.kind) == [.nodeDisconnected])
        #expect(down.first?.id == "NodeDisconnected:91912b429ce7bf29:\(Self.node):1")
        #expect(down.first?.severity == .warning)
        #expect(e.apply(verdict: Self.verdict(connected: false), at: 11_000).alerts.isEmpty)
        let up = e.apply(verdict: Self.verdict(), at: 40_000).alerts
        #expect(up.map(\.id) == ["NodeReconnected:91912b429ce7bf29:\(Self.node):1"])
        #expect(up.first?.fields["disconnected_ms"] == .int(30_000))
        #expect(e.apply(verdict: Self.verdict(), at: 41_000).alerts.isEmpty)
        // Down and isolated at once: both alerts, in one outcome.
        let both = e.apply(verdict: Self.verdict(isolated: true, reason: .latency, connected: false), at: 50_000).alerts
        #expect(both.map(\.kind) == [.nodeIsolated, .nodeDisconnected])
        #expect(both.map(\.id).allSatisfy { $0.hasSuffix(":1") || $0.hasSuffix(":2") })
        #expect(both.last?.id == "NodeDisconnected:91912b429ce7bf29:\(Self.node):2")
    }

    @Test func anIsolatedNodesStallIsSuppressedEvenWhenItsFirstHeightComesAfterTheVerdict() {
        var e = Fixtures.engine()
        _ = e.apply(verdict: Self.verdict(isolated: true, reason: .lag), at: 0)
        _ = e.observe(node: Self.node, height: 10, hash: Fixtures.hash(10), at: 1000)
        _ = e.observe(node: "ws://node-a:9944", height: 10, hash: Fixtures.hash(10), at: 1000)
        let stalls = e.tick(now: 1000 + 65_000).alerts
        #expect(stalls.map(\.node) == ["ws://node-a:9944"], "only the healthy node's stall")
        _ = e.apply(verdict: Self.verdict(), at: 70_000)
        #expect(e.tick(now: 70_001).alerts.map(\.node) == [Self.node], "after recovery its stall counts again")
    }

    @Test func olderRuleStateWithoutTheHealthSectionStillDecodes() throws {
        var e = Fixtures.engine()
        _ = e.observe(node: Self.node, height: 3, hash: Fixtures.hash(3), at: 5)
        #expect(e.state.health == nil)
        let bytes = RuleStateCodec.encode(e.state)
        let decoded = try RuleStateCodec.decode(bytes)
        #expect(decoded == e.state)
        _ = e.apply(verdict: Self.verdict(isolated: true, reason: .lag), at: 6)
        let longer = RuleStateCodec.encode(e.state)
        #expect(longer.count > bytes.count, "the health section is appended")
        #expect(try RuleStateCodec.decode(longer) == e.state)
        #expect(try RuleStateCodec.decode(longer).health?.nodes[Self.node]?.isolated == true)
        // JSON rows (older format) without the key decode too.
        let json = try JSONEncoder().encode(Fixtures.engine().state)
        #expect(try RuleStateCodec.decode([UInt8](json)).health == nil)
    }

    @Test func workerRestartedHasAStableIdPerRestartAndNamesTheWorker() throws {
        let e = Fixtures.engine(run: "run-7")
        let a = try #require(e.workerRestarted(worker: "node-watcher-1", restart: 2, lastExit: "killed by signal 9", at: 1000).alerts.first)
        #expect(a.kind == .workerRestarted && a.severity == .warning)
        #expect(a.id == "WorkerRestarted:run-7:node-watcher-1:2")
        #expect(a.fields["worker"] == .string("node-watcher-1"))
        #expect(a.fields["last_exit"] == .string("killed by signal 9"))
        #expect(a.block == nil && a.node == nil)
        let again = try #require(e.workerRestarted(worker: "node-watcher-1", restart: 2, lastExit: "killed by signal 9", at: 9000).alerts.first)
        #expect(again.id == a.id)
    }
}
