import Foundation
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


/// The real fork-worker process against protocol-level doubles of two node-watchers and the alert-worker.
@Suite("ForkWorkerProcess", .serialized)
struct ForkWorkerProcessTests {
    static let urls = ["ws://127.0.0.1:19001", "ws://127.0.0.1:19002"]

    @Test func startupSideForkReorgBackwardsReorgGapAndFailover() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let chain = SimChain(length: 40)
        let alert = try AlertWorkerDouble(stateDirectory: dir.path)
        defer { alert.close() }
        let w0 = try WatcherDouble(index: 0, url: Self.urls[0], stateDirectory: dir.path, chain: chain)
        let w1 = try WatcherDouble(index: 1, url: Self.urls[1], stateDirectory: dir.path, chain: chain)
        defer { w0.close(); w1.close() }
        let worker = try ChildProcess(BuildProducts.executable("fork-worker"),
                                      ["--state-dir", dir.path, "--slack=false", "--node-rpc-url", Self.urls[0], "--node-rpc-url", Self.urls[1]],
                                      environment: ["CHAIN_ALERTER_TUNING": "fork.cursorWait=5000,fork.cursorStuck=60000,fork.tick=20"],
                                      logPath: dir.file("fork-worker.log"))
        defer { worker.killAndReap() }
        try await Task.sleep(for: .milliseconds(300))
        alert.report(instance: 1, cursor: nil)
        try await Task.sleep(for: .milliseconds(200))

        // Start-up: the whole (short) chain is checked, the first block seen included.
        w0.seen(chain.head, .newHeads)
        w1.seen(chain.head, .allHeads)
        try #require(await eventually(timeout: .seconds(10)) { alert.blocks.count >= 40 }, "\(worker.output)")
        #expect(alert.blocks.map(\.height) == Array(0 ... 39))
        #expect(alert.blocks.dropLast().allSatisfy { $0.mode == .startup })
        #expect(alert.blocks.last?.mode == .current)
        #expect(alert.blocks.first?.startsChain == true)
        #expect(alert.blocks.allSatisfy { $0.block.extrinsics != nil && $0.block.events != nil && $0.block.specVersion == 100 })

        // A side fork of 7 on the secondary node only: one SideForkExtended alert at depth 6, nothing checked.
        let bestBefore = chain.head
        var tip = chain.bestChain()[34]
        var side: [BlockLink] = []
        for _ in 0 ..< 7 {
            tip = chain.add(parent: tip, makeBest: false)
            side.append(tip)
            w1.seen(tip, .allHeads)
        }
        #expect(await eventually(timeout: .seconds(5)) { alert.events.count >= 1 })
        try await Task.sleep(for: .milliseconds(300))
        #expect(alert.events.count == 1)
        if case .sideForkExtended(let t, let point, let depth) = alert.events.first {
            #expect(depth == 6)
            #expect(t.height == side[5].height)
            #expect(point.height == 34)
        } else { Issue.record("expected SideForkExtended, got \(alert.events)") }
        #expect(alert.blocks.count == 40)

        // Reorg to it: every block of the new fork is checked once, in chain order.
        let newTip = chain.add(parent: side.last!, makeBest: true)
        w0.seen(newTip, .newHeads)
        try #require(await eventually(timeout: .seconds(5)) { alert.blocks.count >= 48 }, "\(worker.output)")
        #expect(Array(alert.blocks[40...]).map(\.block.blockHash) == (side + [newTip]).map(\.hash.bytes))
        #expect(Array(alert.blocks[40 ..< 47]).allSatisfy { $0.mode == .replay })
        #expect(alert.blocks[47].mode == .current)
        #expect(await eventually(timeout: .seconds(2)) { alert.events.count >= 2 })
        if case .reorg(let old, let new, let ancestor, let backwards) = alert.events.last {
            #expect(old.hash == bestBefore.hash.bytes)
            #expect(new.hash == newTip.hash.bytes)
            #expect(ancestor.height == 34)
            #expect(backwards == 0)
        } else { Issue.record("expected Reorg, got \(alert.events)") }

        // A backwards reorg: 4 blocks abandoned for a 1-block fork.
        let fork = chain.bestChain()[38]
        let short = chain.add(parent: fork, makeBest: true)
        w0.seen(short, .newHeads)
        #expect(await eventually(timeout: .seconds(5)) { alert.blocks.count >= 49 })
        #expect(alert.blocks.last?.block.blockHash == short.hash.bytes)
        #expect(await eventually(timeout: .seconds(2)) { alert.events.count >= 3 })
        if case .reorg(_, _, let ancestor, let backwards) = alert.events.last {
            #expect(ancestor.height == 38)
            #expect(backwards == 3)
        } else { Issue.record("expected a backwards Reorg, got \(alert.events)") }

        // A gap of 50 (a watcher reconnecting): filled through fetches and checked in order.
        var last = short
        for _ in 0 ..< 51 { last = chain.add(parent: last, makeBest: true) }
        w0.seen(last, .newHeads)
        try #require(await eventually(timeout: .seconds(10)) { alert.blocks.count >= 100 }, "\(worker.output)")
        #expect(Array(alert.blocks[49...]).map(\.height) == Array(40 ... 90))
        #expect(alert.blocks.last?.mode == .current)

        // Fail-over: the primary disconnects; the secondary's new heads now decide the best block.
        w0.connected.store(false, ordering: .relaxed)
        w0.status()
        try await Task.sleep(for: .milliseconds(400))
        let next = chain.add(parent: last, makeBest: true)
        w1.seen(next, .newHeads)
        #expect(await eventually(timeout: .seconds(5)) { alert.blocks.count >= 101 }, "\(worker.output)")
        #expect(alert.blocks.last?.block.blockHash == next.hash.bytes)

        let hashes = alert.blocks.map(\.block.blockHash)
        #expect(Set(hashes).count == hashes.count, "a block was sent twice")
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(10)) == 0)
    }

    @Test func badConfigurationExits78() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let worker = try ChildProcess(BuildProducts.executable("fork-worker"), ["--state-dir", dir.path, "--node-rpc-url", "http://nope"],
                                      environment: [:], inheritChainAlerterVariables: false, logPath: dir.file("fw.log"))
        #expect(await worker.wait(timeout: .seconds(10)) == 78)
    }
}
