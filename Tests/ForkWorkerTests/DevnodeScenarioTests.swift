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


/// The real devnode, two real node-watchers and the real fork-worker; the alert-worker side is a
/// protocol-level double that records what arrives.
@Suite("DevnodeScenarios", .serialized)
struct DevnodeScenarioTests {
    static let scenario = """
        name = "fork-scenarios"
        history = 20
        block_interval_ms = 60
        start_delay_ms = 1500
        end_at = 170

        [[nodes]]
        name = "devnode-0"

        [[nodes]]
        name = "devnode-1"

        [[forks]]
        at = 30
        length = 7

        [[forks]]
        at = 60
        length = 5
        reorg = true
        """

    /// The devnode (two nodes) from `scenario`, the real fork-worker, two real watchers and an alert-worker double.
    final class Rig {
        let dir: TemporaryDirectory
        let devnode: ChildProcess
        let urls: [String]
        let common: [String]
        let alert: AlertWorkerDouble
        let fork: ChildProcess
        var watchers: [ChildProcess] = []

        init(scenario: String) async throws {
            dir = try TemporaryDirectory()
            try scenario.write(toFile: dir.file("scenario.toml"), atomically: true, encoding: .utf8)
            devnode = try ChildProcess(BuildProducts.executable("devnode"), ["--port", "0", "--scenario", dir.file("scenario.toml")],
                                       environment: [:], inheritChainAlerterVariables: false, logPath: dir.file("devnode.log"))
            var found: [String] = []
            let devnode = devnode
            let ready = await eventually(timeout: .seconds(20)) {
                found = devnode.output.split(separator: "\n").compactMap { line in
                    line.contains("listening") ? line.split(separator: "url=").last.map(String.init) : nil
                }
                return found.count == 2
            }
            urls = found
            common = ["--state-dir", dir.path, "--slack=false"] + found.flatMap { ["--node-rpc-url", $0] }
            alert = try AlertWorkerDouble(stateDirectory: dir.path)
            fork = try ChildProcess(BuildProducts.executable("fork-worker"), common, environment: ["CHAIN_ALERTER_TUNING": "fork.cursorStuck=600000"],
                                    logPath: dir.file("fork-worker.log"))
            if !ready { close() }
            try #require(ready, "\(devnode.output)")
            watchers = [try watcher(0), try watcher(1)]
            try await Task.sleep(for: .milliseconds(300))
            alert.report(instance: 1, cursor: nil)
        }

        func watcher(_ i: Int) throws -> ChildProcess {
            try ChildProcess(BuildProducts.executable("node-watcher"), common + ["--watch-node", urls[i]],
                             environment: ["CHAIN_ALERTER_WORKER_NAME": "node-watcher-\(i)"], inheritChainAlerterVariables: false, logPath: dir.file("watcher-\(i).log"))
        }

        func close() {
            watchers.forEach { $0.killAndReap() }
            fork.killAndReap()
            alert.close()
            devnode.killAndReap()
            dir.remove()
        }

        /// Every block sent once, parents first; the final chain walks back to genesis through sent blocks only.
        func checkSentChain() -> [CanonicalBlock] {
            let blocks = alert.blocks
            let hashes = blocks.map(\.block.blockHash)
            #expect(Set(hashes).count == hashes.count, "a block was sent twice")
            var seen: Set<[UInt8]> = []
            for (i, block) in blocks.enumerated() {
                #expect(i == 0 || block.startsChain || seen.contains(block.parentHash), "#\(block.height) sent before its parent")
                seen.insert(block.block.blockHash)
            }
            let byHash = Dictionary(blocks.map { ($0.block.blockHash, $0) }, uniquingKeysWith: { a, _ in a })
            var chain: [CanonicalBlock] = []
            var cursor = blocks.last
            while let b = cursor { chain.append(b); cursor = byHash[b.parentHash] }
            #expect(chain.last?.height == 0)
            #expect(chain.count == Int(blocks.last?.height ?? 0) + 1)
            #expect(blocks.first?.mode == .startup)
            return blocks
        }

        var sideForkDepths: [UInt32] {
            alert.events.compactMap { if case .sideForkExtended(_, _, let d) = $0 { d } else { nil } }
        }

        var reorgs: [(old: BlockRef, new: BlockRef, ancestor: BlockRef, backwards: UInt32)] {
            alert.events.compactMap { if case .reorg(let old, let new, let a, let back) = $0 { (old, new, a, back) } else { nil } }
        }
    }

    /// Side fork of 7 (one SideForkExtended at depth 6, none of its blocks checked), then a reorg of 5 (a
    /// Reorg event; the new branch checked in order), then both watchers killed and restarted after 50
    /// blocks (the gap is filled through fetches and checked in order). The final chain is checked from
    /// genesis to the end, each block once, parents first.
    @Test func sideForkReorgAndGapOf50AfterWatcherReconnect() async throws {
        let rig = try await Rig(scenario: Self.scenario)
        defer { rig.close() }
        let (alert, fork) = (rig.alert, rig.fork)
        #expect(await eventually(timeout: .seconds(30)) { (alert.blocks.last?.height ?? 0) >= 80 }, "\(fork.output.suffix(3000))")
        // A watcher reconnect with a gap of 50: both watchers down while 50 blocks are produced.
        rig.watchers.forEach { $0.killAndReap() }
        let stoppedAt = alert.blocks.last?.height ?? 0
        try await Task.sleep(for: .milliseconds(50 * 60 + 200))
        rig.watchers = [try rig.watcher(0), try rig.watcher(1)]
        #expect(await eventually(timeout: .seconds(30)) { (alert.blocks.last?.height ?? 0) >= 170 }, "\(fork.output.suffix(3000))")
        try await Task.sleep(for: .milliseconds(300))

        let blocks = rig.checkSentChain()
        // The gap was filled: many blocks re-fetched in Replay mode after the reconnect.
        let replayedAfterGap = blocks.filter { $0.height > stoppedAt && $0.mode == .replay }.count
        #expect(replayedAfterGap >= 40, "only \(replayedAfterGap) replayed blocks after the gap (stopped at \(stoppedAt))")
        // Side fork of 7: exactly one alert, at depth 6; the reorg of 5 → new depth 6: one Reorg event.
        #expect(rig.sideForkDepths == [6], "\(alert.events)")
        let reorgs = rig.reorgs
        #expect(reorgs.count == 1, "\(alert.events)")
        if let (old, new, ancestor, backwards) = reorgs.first {
            #expect(new.height - ancestor.height == 6)
            #expect(old.height - ancestor.height == 5)
            #expect(backwards == 0)
        }
        // The side fork's blocks (never best) were never checked: every checked block at 30...36 is on a best chain.
        #expect(blocks.filter { (30 ... 36).contains($0.height) }.count == 7)
        fork.signal(SIGTERM)
        #expect(await fork.wait(timeout: .seconds(10)) == 0)
    }

    static let secondaryAndBackwardsScenario = """
        name = "secondary-fork-and-backwards-reorg"
        history = 20
        block_interval_ms = 60
        start_delay_ms = 1500
        end_at = 90

        [[nodes]]
        name = "devnode-0"

        [[nodes]]
        name = "devnode-1"

        [[forks]]
        at = 30
        length = 7
        node = "devnode-1"

        [[forks]]
        at = 60
        length = 5
        reorg = true
        backwards = 3
        """

    /// A side fork of 7 announced by the secondary node only: one SideForkExtended at depth 6 and none of its
    /// blocks checked. Then a backwards reorg (5 blocks replaced by 2, the best height goes down by 3): one
    /// Reorg with backwards depth 3, the new branch checked once, in order, and later blocks build on it.
    @Test func forkOnASecondaryNodeOnlyAndABackwardsReorg() async throws {
        let rig = try await Rig(scenario: Self.secondaryAndBackwardsScenario)
        defer { rig.close() }
        #expect(await eventually(timeout: .seconds(30)) { (rig.alert.blocks.last?.height ?? 0) >= 88 }, "\(rig.fork.output.suffix(3000))")
        try await Task.sleep(for: .milliseconds(300))
        let blocks = rig.checkSentChain()
        #expect(rig.sideForkDepths == [6], "\(rig.alert.events)")
        #expect(blocks.filter { (30 ... 36).contains($0.height) }.count == 7, "a side-fork block was checked")
        let reorgs = rig.reorgs
        #expect(reorgs.count == 1, "\(rig.alert.events)")
        if let r = reorgs.first {
            #expect(r.old.height - r.ancestor.height == 5)
            #expect(r.new.height - r.ancestor.height == 2)
            #expect(r.backwards == 3)
            #expect(r.old.height == 60)
            #expect(r.ancestor.height == 55)
            // The two blocks of the new branch were checked (the old 56...60 were checked when they were best).
            #expect(blocks.contains { $0.block.blockHash == r.new.hash })
        }
        // 56...60 of the abandoned branch were checked while they were best; the new branch (56', 57') and
        // the blocks built on it (58'', …) are checked too, so heights 56...60 appear twice and 61 once.
        #expect(blocks.filter { $0.height == 58 }.count == 2)
        #expect(blocks.filter { $0.height == 61 }.count == 1)
    }
}
