import Testing
@testable import ForkChoice
@testable import Wire
@testable import SubstrateRuntime
@testable import SubstratePrimitives
import TestKit

/// A deterministic test chain: block `n` of fork `f` gets a distinct synthetic hash.
struct ChainBuilder {
    private(set) var next: UInt64 = 1
    mutating func block(height: UInt64, parent: BlockHash) -> BlockLink {
        defer { next += 1 }
        return BlockLink(hash: BlockHash(synthetic: next), parent: parent, height: height)
    }
    mutating func chain(from parent: BlockLink?, count: Int) -> [BlockLink] {
        var out: [BlockLink] = []
        var p = parent
        for _ in 0 ..< count {
            let b = block(height: p.map { $0.height + 1 } ?? 0, parent: p?.hash ?? .zero)
            out.append(b); p = b
        }
        return out
    }
}

extension [TrackerAction] {
    var emitted: [BlockLink] { compactMap { if case .emit(let b, _, _) = $0 { b } else { nil } } }
    var emittedModes: [CanonicalMode] { compactMap { if case .emit(_, let m, _) = $0 { m } else { nil } } }
    var reorgs: [Reorg] { compactMap { if case .reorg(let r, _) = $0 { r } else { nil } } }
    var alerts: Int { filter { if case .reorg(_, true) = $0 { true } else if case .sideFork(_, true) = $0 { true } else { false } }.count }
}

@Suite("ForkTree")
struct ForkTreeTests {
    @Test func tipsBestAndPruning() {
        var b = ChainBuilder()
        var tree = ForkTree(window: 10)
        let main = b.chain(from: nil, count: 30)
        for link in main { _ = tree.add(link, isBest: false) }
        #expect(tree.best == main.last)
        #expect(tree.tips == [main.last!.hash])
        tree.prune()
        #expect(tree.count == 10)
        #expect(tree.minAllowedHeight == 20)
        #expect(tree.admission(main[5]) == .heightTooLow)
        #expect(tree.checkInvariants() == nil)
        let far = b.block(height: 40, parent: BlockHash(synthetic: 999_999))
        #expect(tree.admission(far) == .missingParent)
    }

    @Test func sideForkDepthAndReorgDepths() {
        var b = ChainBuilder()
        var tree = ForkTree(window: 100)
        let main = b.chain(from: nil, count: 10)
        for link in main { _ = tree.add(link, isBest: true) }
        let side = b.chain(from: main[4], count: 7)
        var depths: [UInt32] = []
        for link in side {
            if case .success(let change) = tree.add(link, isBest: false) { depths.append(change.sideFork?.depth ?? 0) }
        }
        #expect(depths == [1, 2, 3, 4, 5, 6, 7])
        let tip = b.block(height: side.last!.height + 1, parent: side.last!.hash)
        guard case .success(let change) = tree.add(tip, isBest: true) else { Issue.record("not added"); return }
        let reorg = try! #require(change.reorg)
        #expect(reorg.commonAncestor == main[4])
        #expect(reorg.oldDepth == 5)
        #expect(reorg.newDepth == 8)
        #expect(reorg.backwardsDepth == 0)
    }

    @Test func backwardsReorgDepth() {
        var b = ChainBuilder()
        var tree = ForkTree(window: 100)
        let main = b.chain(from: nil, count: 10)
        for link in main { _ = tree.add(link, isBest: true) }
        let side = b.chain(from: main[5], count: 1)
        guard case .success(let change) = tree.add(side[0], isBest: true) else { Issue.record("not added"); return }
        #expect(change.reorg?.oldDepth == 4)
        #expect(change.reorg?.newDepth == 1)
        #expect(change.reorg?.backwardsDepth == 3)
    }

    /// Spec README example: A B C1 D1 best; C2 D2 a side fork from B; E2 on D2 becomes best. C2, D2 and E2
    /// are all checked, in chain order (the original checked only E2).
    @Test func reorgChecksEveryUncheckedBlockOfTheNewFork() {
        var b = ChainBuilder()
        var tracker = ForkTracker(settings: ForkSettings(), cursor: nil)
        let ab = b.chain(from: nil, count: 2)
        var actions = tracker.seen(ab[1], isBest: true)
        #expect(actions == [.fetchAncestors(start: ab[0].hash, count: 1)])
        actions = tracker.ancestorsArrived(start: ab[0].hash, headers: [ab[0]])
        #expect(actions.emitted == ab)
        #expect(actions.emittedModes == [.startup, .current])
        let c1d1 = b.chain(from: ab[1], count: 2)
        for link in c1d1 { #expect(tracker.seen(link, isBest: true).emitted == [link]) }
        let c2d2 = b.chain(from: ab[1], count: 2)
        for link in c2d2 { #expect(tracker.seen(link, isBest: false).emitted.isEmpty) }
        let e2 = b.block(height: 4, parent: c2d2[1].hash)
        actions = tracker.seen(e2, isBest: true)
        #expect(actions.emitted == c2d2 + [e2])
        #expect(actions.emittedModes == [.replay, .replay, .current])
        #expect(actions.reorgs.count == 1)
        // Back to the first fork: D1 and C1 were checked already, only the new block is.
        let e1 = b.block(height: 4, parent: c1d1[1].hash)
        let f1 = b.block(height: 5, parent: e1.hash)
        _ = tracker.seen(e1, isBest: false)
        #expect(tracker.seen(f1, isBest: true).emitted == [e1, f1])
    }

    @Test func chainShorterThanContextStartsAndChecksFirstBlock() {
        var b = ChainBuilder()
        var tracker = ForkTracker(settings: ForkSettings(), cursor: nil)
        let chain = b.chain(from: nil, count: 5)
        _ = tracker.seen(chain[4], isBest: false)
        let actions = tracker.ancestorsArrived(start: chain[3].hash, headers: chain[0 ..< 4].reversed())
        #expect(actions.emitted == chain)
        #expect(tracker.best == chain[4])
        // Genesis as the very first block.
        var genesisOnly = ForkTracker(settings: ForkSettings(), cursor: nil)
        #expect(genesisOnly.seen(chain[0], isBest: true).emitted == [chain[0]])
    }

    @Test func restartResumesAfterTheCursor() {
        var b = ChainBuilder()
        let chain = b.chain(from: nil, count: 20)
        var tracker = ForkTracker(settings: ForkSettings(), cursor: (chain[15].hash, 15))
        _ = tracker.seen(chain[19], isBest: true)
        let actions = tracker.ancestorsArrived(start: chain[18].hash, headers: Array(chain[0 ..< 19]))
        #expect(actions.emitted == Array(chain[16 ..< 20]))
        #expect(actions.emittedModes == [.replay, .replay, .replay, .current])
    }

    @Test func gapIsFilledAndTooLargeGapStartsADisconnectedFork() {
        var b = ChainBuilder()
        var settings = ForkSettings()
        settings.gapLimit = 60
        var tracker = ForkTracker(settings: settings, cursor: nil)
        let chain = b.chain(from: nil, count: 200)
        _ = tracker.seen(chain[0], isBest: true)
        // A gap of 50 after a reconnect.
        var actions = tracker.seen(chain[51], isBest: true)
        #expect(actions == [.fetchAncestors(start: chain[50].hash, count: 51)])
        actions = tracker.ancestorsArrived(start: chain[50].hash, headers: chain[1 ... 50].reversed())
        #expect(actions.emitted == Array(chain[1 ... 51]))
        #expect(actions.emittedModes.last == .current)
        #expect(actions.emittedModes.dropLast().allSatisfy { $0 == .replay })
        // More than the limit missing: a disconnected new fork.
        actions = tracker.seen(chain[150], isBest: true)
        #expect(actions.emitted == [chain[150]])
        if case .emit(_, _, let startsChain) = actions.first(where: { if case .emit = $0 { true } else { false } }) {
            #expect(startsChain)
        }
    }

    @Test func forkAlertThresholds() {
        let s = ForkSettings()
        func side(_ d: UInt32) -> Bool {
            s.sideForkNeedsAlert(SideFork(tip: BlockLink(hash: .zero, parent: .zero, height: 0),
                                          forkPoint: BlockLink(hash: .zero, parent: .zero, height: 0), depth: d))
        }
        #expect((1 ... 31).filter(side) == [6, 10, 20, 30])
    }
}
