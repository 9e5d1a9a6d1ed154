import Foundation
import GRDB
import Logging
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


/// Exactly-once checking across kill -9 of the real fork-worker and alert-worker processes.
@Suite("ExactlyOnce", .serialized)
struct ExactlyOnceTests {
    static let url = "ws://127.0.0.1:19101"

    /// Blocks flow (with forks and reorgs) while both workers are killed with SIGKILL at random points and
    /// restarted. Afterwards the store's checked-blocks set holds the whole final best chain, every block
    /// committed once, one alert row per check, and nothing that was never on the best fork.
    @Test func killNineAtRandomPointsNeverSkipsNorRepeats() async throws {
        // CHAIN_ALERTER_TEST_SEED replays a reported seed (the kill schedule; process timing still varies).
        let seed = ProcessInfo.processInfo.environment["CHAIN_ALERTER_TEST_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0 ... .max)
        var rng = SplitMix64(state: seed)
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let chain = SimChain(length: 30)
        let watcher = try WatcherDouble(index: 0, url: Self.url, stateDirectory: dir.path, chain: chain)
        defer { watcher.close() }
        let arguments = ["--state-dir", dir.path, "--slack=false", "--node-rpc-url", Self.url]
        let environment = ["CHAIN_ALERTER_TUNING": "fork.cursorWait=3000,fork.cursorStuck=800,fork.tick=20"]
        func spawn(_ name: String) throws -> ChildProcess {
            try ChildProcess(BuildProducts.executable(name == "alert-worker" ? "alert-worker-probe" : name), arguments, environment: environment, inheritChainAlerterVariables: false, logPath: dir.file("\(name).log"))
        }
        var alertWorker = try spawn("alert-worker")
        var forkWorker = try spawn("fork-worker")
        defer { alertWorker.killAndReap(); forkWorker.killAndReap() }

        // Producer: the node grows its chain, sometimes switching forks (also backwards).
        let producer = Task {
            var rng = SplitMix64(state: seed ^ 0xABCDEF)
            for _ in 0 ..< 160 {
                try? await Task.sleep(for: .milliseconds(25))
                let head = chain.head
                if rng.chance(0.12) {
                    var base = head
                    for _ in 0 ... Int(rng.next() % 3) { base = chain.link(base.parent) ?? base }
                    var tip = base
                    for _ in 0 ..< Int(rng.next() % 4) + 1 {
                        tip = chain.add(parent: tip, makeBest: false)
                        watcher.seen(tip, .allHeads)
                    }
                    chain.setHead(tip)
                    watcher.seen(tip, .newHeads)
                } else {
                    let next = chain.add(parent: head, makeBest: true)
                    watcher.seen(next, .allHeads)
                    watcher.seen(next, .newHeads)
                }
            }
        }
        // Killer: SIGKILL one or both workers at random points, then restart them.
        var kills = 0
        while kills < 8 {
            try await Task.sleep(for: .milliseconds(150 + Int(rng.next() % 500)))
            let which = rng.next() % 3
            if which != 1 { alertWorker.killAndReap() }
            if which != 0 { forkWorker.killAndReap() }
            kills += 1
            try await Task.sleep(for: .milliseconds(Int(rng.next() % 200)))
            if which != 1 { alertWorker = try spawn("alert-worker") }
            if which != 0 { forkWorker = try spawn("fork-worker") }
        }
        await producer.value
        // Nudge: the final head once more, as a watcher would on its next tick.
        watcher.seen(chain.head, .newHeads)

        let store = try AlertStore(location: .sqliteFile(path: dir.file("chain-alerter.sqlite")), logger: Logger(label: "test"))
        let head = chain.head
        // A real watcher announces its head again on its next tick; so does the double, every half second, so a
        // fork-worker restarted in the last kill round (whose PULL socket the first nudge may have missed) learns it.
        let caughtUp = await eventually(timeout: .seconds(30), every: .milliseconds(500)) {
            watcher.seen(head, .newHeads)
            return (try? store.cursor(named: AlertStore.alertWorkerCursor))??.hash == hexString(head.hash.bytes)
        }
        #expect(caughtUp, "seed \(seed): the alert-worker never reached the head\n\(forkWorker.output.suffix(3000))\nalert-worker:\n\(alertWorker.output.suffix(2000))")

        let checked = try store.checkedBlocks()
        #expect(checked.count >= 150, "seed \(seed): only \(checked.count) blocks checked")
        print("exactly-once: seed \(seed), \(kills) kill rounds, \(checked.count) blocks checked, final height \(head.height)")
        let checkedHashes = Set(checked.map(\.hash))
        #expect(checked.allSatisfy { $0.commits == 1 }, "seed \(seed): a block was committed twice")
        let finalChain = chain.bestChain().map { hexString($0.hash.bytes) }
        let missing = finalChain.filter { !checkedHashes.contains($0) }
        #expect(missing.isEmpty, "seed \(seed): \(missing.count) best-chain blocks never checked")
        let everBest = Set(chain.everBest.map { hexString($0.bytes) })
        #expect(checkedHashes.isSubset(of: everBest), "seed \(seed): a block that was never best was checked")
        // One alert row per check: a block checked twice would have two (their ids differ per check).
        let perBlock = try store.read("count") { db in
            try Row.fetchAll(db, sql: "SELECT json_extract(payload, '$.block.hash') AS h, COUNT(*) AS n FROM alert GROUP BY h")
                .map { ($0["h"] as String, $0["n"] as Int) }
        }
        #expect(perBlock.allSatisfy { $0.1 == 1 }, "seed \(seed): \(perBlock.filter { $0.1 > 1 })")
        #expect(Set(perBlock.map(\.0)) == checkedHashes)
        // A worker respawned by the last round may still be installing its signal handlers.
        try await Task.sleep(for: .milliseconds(500))
        alertWorker.signal(SIGTERM)
        forkWorker.signal(SIGTERM)
        let alertCode = await alertWorker.wait(timeout: .seconds(10))
        let forkCode = await forkWorker.wait(timeout: .seconds(10))
        #expect(alertCode == 0, "\(alertWorker.output.suffix(2000))")
        #expect(forkCode == 0, "\(forkWorker.output.suffix(2000))")
    }
}

/// The same guarantee end to end with the real devnode and node-watcher: reorgs every few blocks, the
/// fork-worker and the alert-worker killed with SIGKILL at random points and restarted.
@Suite("ExactlyOnceDevnode", .serialized)
struct ExactlyOnceDevnodeTests {
    @Test func killNineWithDevnodeAndRealWatcher() async throws {
        // CHAIN_ALERTER_TEST_SEED replays a reported seed (the kill schedule; process timing still varies).
        let seed = ProcessInfo.processInfo.environment["CHAIN_ALERTER_TEST_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0 ... .max)
        var rng = SplitMix64(state: seed)
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var scenario = """
            name = "kill9"
            history = 40
            block_interval_ms = 40
            end_at = 200
            """
        for at in stride(from: 50, to: 190, by: 17) { scenario += "\n[[forks]]\nat = \(at)\nlength = \(at % 4 + 1)\nreorg = true\n" }
        try scenario.write(toFile: dir.file("scenario.toml"), atomically: true, encoding: .utf8)
        let devnode = try ChildProcess(BuildProducts.executable("devnode"), ["--port", "0", "--scenario", dir.file("scenario.toml")],
                                       environment: [:], inheritChainAlerterVariables: false, logPath: dir.file("devnode.log"))
        defer { devnode.killAndReap() }
        var url = ""
        #expect(await eventually(timeout: .seconds(20)) {
            url = devnode.output.split(separator: "\n").first { $0.contains("listening") }?.split(separator: "url=").last.map(String.init) ?? ""
            return !url.isEmpty
        })
        let common = ["--state-dir", dir.path, "--slack=false", "--node-rpc-url", url]
        let environment = ["CHAIN_ALERTER_TUNING": "fork.cursorWait=3000,fork.cursorStuck=800,fork.tick=20"]
        func spawn(_ name: String) throws -> ChildProcess {
            try ChildProcess(BuildProducts.executable(name == "alert-worker" ? "alert-worker-probe" : name), common, environment: environment, inheritChainAlerterVariables: false, logPath: dir.file("\(name).log"))
        }
        let watcher = try ChildProcess(BuildProducts.executable("node-watcher"), common + ["--watch-node", url],
                                       environment: ["CHAIN_ALERTER_WORKER_NAME": "node-watcher-0"], inheritChainAlerterVariables: false, logPath: dir.file("watcher.log"))
        defer { watcher.killAndReap() }
        var alertWorker = try spawn("alert-worker")
        var forkWorker = try spawn("fork-worker")
        defer { alertWorker.killAndReap(); forkWorker.killAndReap() }
        for _ in 0 ..< 7 {
            try await Task.sleep(for: .milliseconds(300 + Int(rng.next() % 500)))
            let which = rng.next() % 3
            if which != 1 { alertWorker.killAndReap() }
            if which != 0 { forkWorker.killAndReap() }
            try await Task.sleep(for: .milliseconds(Int(rng.next() % 200)))
            if which != 1 { alertWorker = try spawn("alert-worker") }
            if which != 0 { forkWorker = try spawn("fork-worker") }
        }
        let store = try AlertStore(location: .sqliteFile(path: dir.file("chain-alerter.sqlite")), logger: Logger(label: "test"))
        #expect(await eventually(timeout: .seconds(40)) {
            ((try? store.cursor(named: AlertStore.alertWorkerCursor))??.height ?? 0) >= 200
        }, "seed \(seed): never reached 200\nFORK\n\(forkWorker.output.suffix(2000))\nALERT\n\(alertWorker.output.suffix(1500))\nWATCHER\n\(watcher.output.suffix(1500))\nDEVNODE\n\(devnode.output.suffix(800))")
        try await Task.sleep(for: .milliseconds(500))

        let checked = try store.checkedBlocks()
        #expect(checked.allSatisfy { $0.commits == 1 }, "seed \(seed)")
        let rows = try store.read("rows") { db in
            try Row.fetchAll(db, sql: """
                SELECT json_extract(payload, '$.block.hash') AS h, json_extract(payload, '$.block.height') AS n,
                       json_extract(payload, '$.fields.parent') AS p FROM alert
                """).map { ($0["h"] as String, $0["n"] as Int64, $0["p"] as String) }
        }
        let hashes = rows.map(\.0)
        #expect(Set(hashes).count == hashes.count, "seed \(seed): a block was checked twice")
        #expect(Set(hashes) == Set(checked.map(\.hash)))
        // The final best chain, walked back from the cursor through checked parents, reaches genesis.
        let parentOf = Dictionary(rows.map { ($0.0, ($0.1, $0.2)) }, uniquingKeysWith: { a, _ in a })
        var cursor = try store.cursor(named: AlertStore.alertWorkerCursor)?.hash
        var heights: [Int64] = []
        while let h = cursor, let (height, parent) = parentOf[h] { heights.append(height); cursor = parent }
        #expect(heights.last == 0, "seed \(seed): the best chain is not checked down to genesis (stops at \(heights.last ?? -1))")
        #expect(heights.count == Int(heights.first ?? 0) + 1, "seed \(seed): a best-chain block was skipped")
        print("exactly-once (devnode): seed \(seed), \(checked.count) blocks checked, best chain \(heights.count)")
        try await Task.sleep(for: .milliseconds(300))
        alertWorker.signal(SIGTERM)
        forkWorker.signal(SIGTERM)
        #expect(await alertWorker.wait(timeout: .seconds(10)) == 0)
        #expect(await forkWorker.wait(timeout: .seconds(10)) == 0)
    }
}
