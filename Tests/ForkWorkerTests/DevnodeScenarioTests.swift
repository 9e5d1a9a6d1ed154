import Foundation
import Shared
import Testing

@testable import fork_worker

/// The real devnode, two real node-watchers and the real fork-worker; the alert-worker side is a
/// protocol-level double that records what arrives.
@Suite("DevnodeScenarios", .serialized)
struct DevnodeScenarioTests {
    static let scenario = """
        name = "fork-scenarios"
        history = 20
        block_interval_ms = 60
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

    /// Side fork of 7 (one SideForkExtended at depth 6, none of its blocks checked), then a reorg of 5 (a
    /// Reorg event; the new branch checked in order), then both watchers killed and restarted after 50
    /// blocks (the gap is filled through fetches and checked in order). The final chain is checked from
    /// genesis to the end, each block once, parents first.
    @Test func sideForkReorgAndGapOf50AfterWatcherReconnect() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try Self.scenario.write(toFile: dir.file("scenario.toml"), atomically: true, encoding: .utf8)
        let devnode = try ChildProcess(builtExecutable("devnode"), ["--port", "0", "--scenario", dir.file("scenario.toml")],
                                       environment: [:], logPath: dir.file("devnode.log"))
        defer { devnode.killAndReap() }
        var urls: [String] = []
        #expect(await eventually(timeout: .seconds(20)) {
            urls = devnode.output.split(separator: "\n").compactMap { line in
                line.contains("listening") ? line.split(separator: "url=").last.map(String.init) : nil
            }
            return urls.count == 2
        }, "\(devnode.output)")
        let common = ["--state-dir", dir.path, "--slack=false", "--node-rpc-url", urls[0], "--node-rpc-url", urls[1]]
        let alert = try AlertWorkerDouble(stateDirectory: dir.path)
        defer { alert.close() }
        let fork = try ChildProcess(builtExecutable("fork-worker"), common, environment: ["CHAIN_ALERTER_FORK_TUNING": "cursorStuck=600000"],
                                    logPath: dir.file("fork-worker.log"))
        defer { fork.killAndReap() }
        func watcher(_ i: Int) throws -> ChildProcess {
            try ChildProcess(builtExecutable("node-watcher"), common + ["--watch-node", urls[i]],
                             environment: ["CHAIN_ALERTER_WORKER_NAME": "node-watcher-\(i)"], logPath: dir.file("watcher-\(i).log"))
        }
        var watchers = [try watcher(0), try watcher(1)]
        defer { watchers.forEach { $0.killAndReap() } }
        try await Task.sleep(for: .milliseconds(300))
        alert.report(instance: 1, cursor: nil)

        #expect(await eventually(timeout: .seconds(30)) { (alert.blocks.last?.height ?? 0) >= 80 }, "\(fork.output.suffix(3000))")
        // A watcher reconnect with a gap of 50: both watchers down while 50 blocks are produced.
        watchers.forEach { $0.killAndReap() }
        let stoppedAt = alert.blocks.last?.height ?? 0
        try await Task.sleep(for: .milliseconds(50 * 60 + 200))
        watchers = [try watcher(0), try watcher(1)]
        #expect(await eventually(timeout: .seconds(30)) { (alert.blocks.last?.height ?? 0) >= 170 }, "\(fork.output.suffix(3000))")
        try await Task.sleep(for: .milliseconds(300))

        let blocks = alert.blocks
        let hashes = blocks.map(\.block.blockHash)
        #expect(Set(hashes).count == hashes.count, "a block was sent twice")
        var seen: Set<[UInt8]> = []
        for (i, block) in blocks.enumerated() {
            #expect(i == 0 || block.startsChain || seen.contains(block.parentHash), "#\(block.height) sent before its parent")
            seen.insert(block.block.blockHash)
        }
        // The final chain, walked back from the last block, reaches genesis through checked blocks only.
        let byHash = Dictionary(blocks.map { ($0.block.blockHash, $0) }, uniquingKeysWith: { a, _ in a })
        var chain: [CanonicalBlock] = []
        var cursor = blocks.last
        while let b = cursor { chain.append(b); cursor = byHash[b.parentHash] }
        #expect(chain.last?.height == 0)
        #expect(chain.count == Int(blocks.last!.height) + 1)
        #expect(blocks.first?.mode == .startup)
        // The gap was filled: many blocks re-fetched in Replay mode after the reconnect.
        let replayedAfterGap = blocks.filter { $0.height > stoppedAt && $0.mode == .replay }.count
        #expect(replayedAfterGap >= 40, "only \(replayedAfterGap) replayed blocks after the gap (stopped at \(stoppedAt))")
        // Side fork of 7: exactly one alert, at depth 6; the reorg of 5 → new depth 6: one Reorg event.
        let sideEvents = alert.events.compactMap { if case .sideForkExtended(_, _, let d) = $0 { d } else { nil } }
        #expect(sideEvents == [6], "\(alert.events)")
        let reorgs = alert.events.compactMap { if case .reorg(let old, let new, let a, let back) = $0 { (old, new, a, back) } else { nil } }
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
}
