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

/// Stall / resume / chain time gap with a manual clock, fork alerts, runtime upgrades and Startup.
@Suite struct TimeAndForkRuleTests {
    let nodeA = "ws://node-a:9944"
    let nodeB = "ws://node-b:9944"

    @Test func stallPerNodeOnceThenResumeThenSecondStallRightAfter() {
        var e = Fixtures.engine()
        var now: UInt64 = 1_000_000
        #expect(e.observe(node: nodeA, height: 10, hash: Fixtures.hash(10), at: now).alerts.isEmpty)
        #expect(e.observe(node: nodeB, height: 10, hash: Fixtures.hash(10), at: now).alerts.isEmpty)
        now += 64_999
        #expect(e.tick(now: now).alerts.isEmpty)
        _ = e.observe(node: nodeB, height: 11, hash: Fixtures.hash(11), at: now) // B keeps going
        now += 1
        let stall = e.tick(now: now).alerts
        #expect(stall.map(\.kind) == [.blockStall])
        #expect(stall.first?.node == nodeA)
        #expect(stall.first?.block?.height == 10)
        #expect(stall.first?.text == "**Node stopped receiving blocks**\nLocal time since last block: 1m 5s")
        #expect(stall.first?.id == "BlockStall:91912b429ce7bf29:\(nodeA):\(Hex.encode(Fixtures.hash(10), prefix: false))")
        // No repeat while stalled (B, quiet since its last block, stalls now: its own single alert).
        #expect(e.tick(now: now + 600_000).alerts.map { $0.node } == [nodeB])
        // Resume: A moves; one node-level BlockResumed pointing at the first block after it.
        now += 600_000
        let resumed = e.observe(node: nodeA, height: 11, hash: Fixtures.hash(11), at: now).alerts
        #expect(resumed.map(\.kind) == [.blockResumed])
        #expect(resumed.first?.block?.height == 11 && resumed.first?.fields["scope"] == .string("node"))
        // ⚠ fixed: a second stall right after the resume alerts (the original's is_stalled race missed it).
        now += 65_000
        let second = e.tick(now: now).alerts
        #expect(second.filter { $0.node == nodeA }.map(\.kind) == [.blockStall])
        #expect(second.first { $0.node == nodeA }?.block?.height == 11)
        // B is still in its first stall: it does not alert again.
        #expect(second.filter { $0.node == nodeB }.isEmpty)
    }

    @Test func nodeStatusHeightsWithoutHashPointAtNoBlock() {
        var e = Fixtures.engine()
        _ = e.observe(node: nodeB, height: 5, hash: [], at: 0)
        let a = e.tick(now: 65_000).alerts.first
        #expect(a?.kind == .blockStall && a?.block == nil && a?.fields["height"] == .int(5) && a?.node == nodeB)
    }

    @Test func isolatedNodeStallIsSuppressed() {
        var e = Fixtures.engine()
        _ = e.observe(node: nodeB, height: 5, hash: Fixtures.hash(5), at: 0)
        e.setIsolated(node: nodeB, true)
        #expect(e.tick(now: 100_000).alerts.isEmpty)
        e.setIsolated(node: nodeB, false)
        #expect(e.tick(now: 100_001).alerts.map(\.kind) == [.blockStall])
    }

    @Test func resumeAndChainGapStatusChanges() {
        var e = Fixtures.engine()
        _ = e.check(block: SyntheticBlocks.block(height: 1, received: 0))
        // 55 s local gap → BlockResumed (chain time 6 s later).
        let r = e.check(block: SyntheticBlocks.block(height: 2, received: 55_000)).alerts
        #expect(r.map(\.kind) == [.blockResumed])
        #expect(r.first?.text.hasPrefix("**Node resumed receiving blocks**\nLocal time gap: 55s\nHeader time gap: 6s\n\nPrevious best block:\nBlock: [0x0000\u{2026}0001]") == true)
        // Another local gap right away: status unchanged (LocalResume → LocalResume) → nothing.
        #expect(e.check(block: SyntheticBlocks.block(height: 3, received: 120_000)).alerts.isEmpty)
        // LocalResume → ChainResume does not alert either.
        #expect(e.check(block: SyntheticBlocks.block(height: 4, time: 1_700_000_000_000 + 3 * 6000 + 60_000, received: 121_000)).alerts.isEmpty)
        // Back to normal, then a chain gap alone → BlockChainTimeGap.
        _ = e.check(block: SyntheticBlocks.block(height: 5, time: 1_700_000_000_000 + 3 * 6000 + 66_000, received: 122_000))
        let g = e.check(block: SyntheticBlocks.block(height: 6, time: 1_700_000_000_000 + 3 * 6000 + 66_000 + 55_000, received: 123_000)).alerts
        #expect(g.map(\.kind) == [.blockChainTimeGap])
        #expect(g.first?.text.hasPrefix("**Block chain time gap**\nGap: 55s\n\nPrevious best block:\n") == true)
        // Replay blocks have no local receive time: no resume however late they are processed.
        var e2 = Fixtures.engine()
        _ = e2.check(block: SyntheticBlocks.block(height: 1, mode: .replay))
        #expect(e2.check(block: SyntheticBlocks.block(height: 2, mode: .replay)).alerts.isEmpty)
    }

    @Test func chainLevelResumeIsADuplicateOfTheNodeLevelOne() {
        var e = Fixtures.engine()
        _ = e.observe(node: nodeA, height: 1, hash: SyntheticBlocks.hash(1), at: 0)
        _ = e.check(block: SyntheticBlocks.block(height: 1, received: 0))
        #expect(e.tick(now: 70_000).alerts.count == 1)
        #expect(e.observe(node: nodeA, height: 2, hash: SyntheticBlocks.hash(2), at: 80_000).alerts.map(\.kind) == [.blockResumed])
        let o = e.check(block: SyntheticBlocks.block(height: 2, received: 80_000))
        #expect(o.alerts.isEmpty)
        #expect(o.suppressed.map(\.kind) == [.blockResumed])
    }

    func sideFork(_ depth: UInt32) -> ForkEvent {
        .sideForkExtended(tip: BlockRef(hash: SyntheticBlocks.hash(100 + UInt64(depth), fork: 7), height: 100 + UInt64(depth)),
                          forkPoint: BlockRef(hash: SyntheticBlocks.hash(100), height: 100), depth: depth)
    }

    @Test func sideForkAlertsAt6_10_20_30() {
        var e = Fixtures.engine()
        var alerted: [UInt32] = []
        for d in UInt32(1) ... 31 where !e.apply(forkEvent: sideFork(d), mode: .current, node: nil, at: 0).alerts.isEmpty { alerted.append(d) }
        #expect(alerted == [6, 10, 20, 30])
        // Re-sent events (after a restart) alert nothing new; gaps in depth still alert once per step.
        #expect(e.apply(forkEvent: sideFork(10), mode: .current, node: nil, at: 0).alerts.isEmpty)
        var e2 = Fixtures.engine()
        #expect(e2.apply(forkEvent: sideFork(12), mode: .current, node: nil, at: 0).alerts.count == 1)
        #expect(e2.apply(forkEvent: sideFork(19), mode: .current, node: nil, at: 0).alerts.isEmpty)
        #expect(e2.apply(forkEvent: sideFork(21), mode: .current, node: nil, at: 0).alerts.count == 1)
        // Never during Startup.
        var e3 = Fixtures.engine()
        #expect(e3.apply(forkEvent: sideFork(6), mode: .startup, node: nil, at: 0).alerts.isEmpty)
        let a = e.apply(forkEvent: sideFork(40), mode: .current, node: nil, at: 0).alerts.first
        #expect(a?.text == "**Side chain fork extended**\nFork depth: 40")
        #expect(a?.fields["depth"] == .int(40))
        #expect(a?.block?.height == 140)
    }

    @Test func reorgDepthsAndBackwards() {
        var e = Fixtures.engine()
        let common = BlockRef(hash: SyntheticBlocks.hash(100), height: 100)
        // Shallow: 2 → 3, no alert.
        #expect(e.apply(forkEvent: .reorg(oldBest: BlockRef(hash: SyntheticBlocks.hash(102), height: 102),
                                          newBest: BlockRef(hash: SyntheticBlocks.hash(103, fork: 1), height: 103),
                                          commonAncestor: common, backwardsDepth: 2), mode: .current, node: nil, at: 0).alerts.isEmpty)
        // Deep: new fork depth 6.
        let deep = e.apply(forkEvent: .reorg(oldBest: BlockRef(hash: SyntheticBlocks.hash(105), height: 105),
                                             newBest: BlockRef(hash: SyntheticBlocks.hash(106, fork: 1), height: 106),
                                             commonAncestor: common, backwardsDepth: 5), mode: .current, node: nil, at: 0).alerts
        #expect(deep.map(\.kind) == [.reorg])
        #expect(deep.first?.fields["new_depth"] == .int(6) && deep.first?.fields["old_depth"] == .int(5) && deep.first?.fields["backwards_depth"] == nil)
        #expect(deep.first?.title == "Reorg detected")
        // Backwards: old 4, new 1 → backwards 3.
        let back = e.apply(forkEvent: .reorg(oldBest: BlockRef(hash: SyntheticBlocks.hash(104), height: 104),
                                             newBest: BlockRef(hash: SyntheticBlocks.hash(101, fork: 2), height: 101),
                                             commonAncestor: common, backwardsDepth: 4), mode: .current, node: nil, at: 0).alerts
        #expect(back.first?.text == """
            **Backwards Reorg detected**
            New fork depth: 1
            Old fork depth: 4
            Old best block: 104 (\(Hex.encode(SyntheticBlocks.hash(104))))
            Backwards reorg depth: 3

            _Check Subscan 'finalized' blocks for changes_

            """)
        #expect(back.first?.fields["backwards_depth"] == .int(3))
        #expect(back.first?.block?.height == 101) // points at the new best block
    }

    @Test func runtimeUpgradeOnceForCodeUpdatedAndSpecChange() {
        var e = Fixtures.engine()
        _ = e.check(block: SyntheticBlocks.block(height: 1, specVersion: 6))
        let code = SyntheticBlocks.event(0, pallet: "System", name: "CodeUpdated", fields: [])
        let a = e.check(block: SyntheticBlocks.block(height: 2, events: [code], specVersion: 6)).alerts
        #expect(a.map(\.kind) == [.runtimeUpgraded])
        // The next block runs the new spec version: the same upgrade, not a second alert.
        #expect(e.check(block: SyntheticBlocks.block(height: 3, specVersion: 7)).alerts.isEmpty)
        // A spec version change without CodeUpdated (e.g. the CodeUpdated block was before the cursor) alerts.
        let b = e.check(block: SyntheticBlocks.block(height: 4, specVersion: 8)).alerts
        #expect(b.map(\.kind) == [.runtimeUpgraded])
        #expect(b.first?.text == "**Runtime upgraded**\nSpec version: 7 → 8")
    }

    @Test func startupOncePerRun() {
        var e = Fixtures.engine(run: "run-A")
        #expect(e.check(block: SyntheticBlocks.block(height: 1, mode: .startup)).alerts.isEmpty)
        let s = e.check(block: SyntheticBlocks.block(height: 2)).alerts
        #expect(s.map(\.kind) == [.startup])
        #expect(s.first?.text == "**Launched and connected to the nodes**\nNodes: ws://node-a:9944")
        #expect(s.first?.id == "Startup:91912b429ce7bf29:run-A")
        #expect(e.check(block: SyntheticBlocks.block(height: 3)).alerts.isEmpty)
        // A worker restart inside the same run keeps quiet; a new run alerts again.
        var restarted = Fixtures.engine(run: "run-A")
        restarted.state = e.state
        #expect(restarted.check(block: SyntheticBlocks.block(height: 4)).alerts.isEmpty)
        var newRun = Fixtures.engine(run: "run-B")
        newRun.state = e.state
        #expect(newRun.check(block: SyntheticBlocks.block(height: 4)).alerts.map(\.kind) == [.startup])
    }
}
