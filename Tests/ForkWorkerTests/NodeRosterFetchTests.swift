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

@Suite("NodeRosterAndFetch")
struct NodeRosterFetchTests {
    func status(_ url: String, connected: Bool = true, height: UInt64 = 100) -> NodeStatus {
        NodeStatus(node: url, connected: connected, bestHeight: height, rpcLatencyMilliseconds: 1, observedAtMilliseconds: 0)
    }

    @Test func primaryFailsOverWhenDisconnectedOrIsolatedAndFailsBack() {
        var settings = NodeRoster.Settings(lagIsolate: 10)
        settings.lagSustainMilliseconds = 0
        settings.recoverAfterMilliseconds = 0
        var roster = NodeRoster(urls: ["ws://a", "ws://b", "ws://c"], settings: settings)
        #expect(roster.primary(now: 0) == 0)
        roster.update(status("ws://a"), routingID: Array("node-watcher-0".utf8), now: 0)
        roster.update(status("ws://b"), routingID: Array("node-watcher-1".utf8), now: 0)
        #expect(roster.primary(now: 10) == 0)
        roster.update(status("ws://a", connected: false), routingID: nil, now: 100)
        #expect(roster.primary(now: 100) == 1)
        // Back, but lagging more than node_lag_isolate blocks: still isolated.
        roster.update(status("ws://a", height: 80), routingID: nil, now: 200)
        #expect(roster.primary(now: 200) == 1)
        roster.update(status("ws://a", height: 100), routingID: nil, now: 300)
        #expect(roster.primary(now: 300) == 0)
        // Silent for longer than the staleness limit: down.
        roster.update(status("ws://b"), routingID: nil, now: 6000)
        #expect(roster.primary(now: 6000) == 1)
        #expect(roster.fetchTargets(now: 6000).first == Array("node-watcher-1".utf8))
        #expect(roster.fetchTargets(now: 6000).last == Array("node-watcher-2".utf8))
    }

    @Test func fetchesArePipelinedBoundedAndRetriedOnTheNextWatcher() {
        var client = FetchClient()
        client.maxInFlight = 2
        for n in 0 ..< 5 { client.enqueue(.blockPart(BlockHash(synthetic: UInt64(n))), kind: .body, hash: BlockHash(synthetic: UInt64(n))) }
        let targets = [Array("w0".utf8), Array("w1".utf8)]
        var sent = client.dispatch(now: 0, targets: targets)
        #expect(sent.count == 2)
        #expect(sent.allSatisfy { $0.routingID == targets[0] })
        // A failure: retried on the next watcher; a success frees a slot.
        #expect(client.answer(BlockData(requestID: sent[0].request.requestID, outcome: .failed(message: "x")), now: 1) == nil)
        #expect(client.answer(BlockData(requestID: sent[1].request.requestID,
                                        outcome: .found([FetchedBlock(blockHash: [1])])), now: 1) != nil)
        sent = client.dispatch(now: 1, targets: targets)
        #expect(sent.count == 2)
        #expect(sent.contains { $0.routingID == targets[1] })
        // A timeout: retried too; non-emission requests are given up after maxAttempts.
        client = FetchClient()
        client.enqueue(.ancestors(start: .zero), kind: .ancestors, hash: .zero, count: 5)
        var givenUp: [FetchClient.Request] = []
        for t in 0 ..< 10 {
            _ = client.dispatch(now: Int64(t) * 10_000, targets: targets)
            givenUp += client.expire(now: Int64(t) * 10_000 + 6000)
        }
        #expect(givenUp.contains { $0.purpose == .ancestors(start: .zero) })
        #expect(!givenUp.contains { if case .blockPart = $0.purpose { true } else { false } })
    }
}
