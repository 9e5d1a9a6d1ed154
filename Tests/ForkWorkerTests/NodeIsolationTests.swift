import Foundation
import GRDB
import Logging
import Testing
import fork_worker
import ForkChoice
import alert_worker
import AlertRules
import devnode
import node_watcher
import Store
import SubstrateRuntime
import SubstratePrimitives
import WorkerRuntime
import Wire
import TestKit

/// Slow-node isolation end to end: the real devnode (several nodes), real node-watchers, the real fork-worker
/// and the real alert-worker with the real rules over SQLite (and, for `ctl`, the real supervisor).
@Suite("NodeIsolation", .serialized, .timeLimit(.minutes(2)))
struct NodeIsolationTests {
    static let config = """
        [alerts]
        block_stall = "4s"
        node_lag_isolate = 8
        node_latency_isolate = "5s"
        node_recover_after = "2s"
        """
    static let tuning = Tuning.variable
    static let tuningValue = "fork.lagSustain=500,fork.settle=1500,fork.disconnectAfter=2000,fork.reconnectStable=1000,fork.stale=2500,fork.cursorStuck=800,fork.tick=20"

    /// devnode → one watcher per node → fork-worker → alert-worker → SQLite.
    final class Pipeline {
        let dir: TemporaryDirectory
        let devnode: ChildProcess
        let urls: [String]
        let common: [String]
        var alert: ChildProcess?
        var fork: ChildProcess?
        var watchers: [ChildProcess?] = []

        init(scenario: String, nodes: Int, supervised: Bool = false, config: String = NodeIsolationTests.config,
             tuning: String = NodeIsolationTests.tuningValue) async throws {
            dir = try TemporaryDirectory()
            try scenario.write(toFile: dir.file("scenario.toml"), atomically: true, encoding: .utf8)
            try config.write(toFile: dir.file("config.toml"), atomically: true, encoding: .utf8)
            devnode = try ChildProcess(BuildProducts.executable("devnode"), ["--port", "0", "--scenario", dir.file("scenario.toml")],
                                       environment: [:], inheritChainAlerterVariables: false, logPath: dir.file("devnode.log"))
            var found: [String] = []
            let devnode = devnode
            let ready = await eventually(timeout: .seconds(20)) {
                found = devnode.output.split(separator: "\n").compactMap { line in
                    line.contains("listening") ? line.split(separator: "url=").last.map(String.init) : nil
                }
                return found.count == nodes
            }
            urls = found
            common = ["--state-dir", dir.path, "--slack=false", "--config", dir.file("config.toml")] + found.flatMap { ["--node-rpc-url", $0] }
            if !ready { close() }
            try #require(ready, "\(devnode.output)")
            guard !supervised else { return }
            alert = try ChildProcess(BuildProducts.executable("alert-worker"), common, environment: [:], inheritChainAlerterVariables: false, logPath: dir.file("alert-worker.log"))
            fork = try ChildProcess(BuildProducts.executable("fork-worker"), common, environment: [NodeIsolationTests.tuning: tuning],
                                    logPath: dir.file("fork-worker.log"))
            for i in 0 ..< nodes { watchers.append(try watcher(i)) }
        }

        func watcher(_ i: Int) throws -> ChildProcess {
            try ChildProcess(BuildProducts.executable("node-watcher"), common + ["--watch-node", urls[i]],
                             environment: ["CHAIN_ALERTER_WORKER_NAME": "node-watcher-\(i)"], inheritChainAlerterVariables: false, logPath: dir.file("watcher-\(i).log"))
        }

        /// Reads the store read-only with plain GRDB: the test must never run the store's migrations itself (it
        /// would race the alert-worker creating the file).
        func query<T>(_ body: (Database) throws -> T) -> T? {
            let path = dir.file("chain-alerter.sqlite")
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            var configuration = GRDB.Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(5)
            guard let queue = try? DatabaseQueue(path: path, configuration: configuration) else { return nil }
            return try? queue.read(body)
        }

        /// Every stored alert, in row order (empty while the store does not exist yet).
        func alerts() -> [AlertPayload] {
            let payloads = query { db in try String.fetchAll(db, sql: "SELECT payload FROM alert ORDER BY row_id") } ?? []
            return payloads.compactMap { try? AlertPayload.decode(Data($0.utf8)) }
        }

        func alerts(_ kind: AlertKind, node: String? = nil) -> [AlertPayload] {
            alerts().filter { $0.kind == kind && (node == nil || $0.node == node) }
        }

        var cursorHeight: UInt64 {
            let height = query { db in
                try Int64.fetchOne(db, sql: "SELECT height FROM cursor WHERE name = ?", arguments: [AlertStore.alertWorkerCursor])
            } ?? nil
            return UInt64(max(0, height ?? 0))
        }

        /// Checked heights, each once, with no gap from the first to the last.
        func expectContiguousCheckedBlocks(through end: UInt64) throws {
            let heights = (query { db in try Int64.fetchAll(db, sql: "SELECT height FROM checked_block") } ?? []).map { UInt64($0) }
            #expect(Set(heights).count == heights.count, "a height was checked twice (no forks in this scenario)")
            let sorted = heights.sorted()
            let first = try #require(sorted.first)
            #expect(sorted == Array(first ... end), "checked heights have a gap: \(Self.gaps(sorted))")
        }

        static func gaps(_ sorted: [UInt64]) -> [String] {
            zip(sorted, sorted.dropFirst()).filter { $1 != $0 + 1 }.map { "\($0)→\($1)" }
        }

        var logs: String {
            ["fork-worker", "alert-worker"].map { name in
                "--- \(name)\n" + String((try? String(contentsOfFile: dir.file("\(name).log"), encoding: .utf8))?.suffix(3000) ?? "")
            }.joined(separator: "\n")
        }

        func close() {
            watchers.forEach { $0?.signal(SIGCONT); $0?.killAndReap() }
            fork?.killAndReap()
            alert?.killAndReap()
            devnode.killAndReap()
            dir.remove()
        }
    }

    // MARK: lag

    static let lagScenario = """
        name = "lagging-node"
        history = 20
        block_interval_ms = 100
        end_at = 200

        [[nodes]]
        name = "devnode-0"

        [[nodes]]
        name = "devnode-1"

        [[nodes]]
        name = "devnode-2"
        lag_blocks = 15
        lag_until = 110
        """

    /// Three nodes, the third 15 blocks behind until block 110: NodeIsolated (reason lag) for it, no BlockStall at
    /// all, every block checked once in order while it is isolated, then NodeRecovered once it caught up.
    @Test func aNodeLagging15BlocksIsIsolatedWithoutFalseStallsAndRecovers() async throws {
        let p = try await Pipeline(scenario: Self.lagScenario, nodes: 3)
        defer { p.close() }
        let lagging = p.urls[2]
        try #require(await eventually(timeout: .seconds(20)) { !p.alerts(.nodeIsolated, node: lagging).isEmpty }, "\(p.logs)")
        let isolated = try #require(p.alerts(.nodeIsolated, node: lagging).first)
        #expect(isolated.fields["reason"] == .string("lag"))
        // The devnode delays the lagging node's notifications by 15 block intervals, so right after it subscribes
        // it shows its first (lagged) head and then nothing for 15 intervals: up to ~30 blocks behind for a moment.
        if case .int(let lag)? = isolated.fields["lag_blocks"] { #expect(lag > 8 && lag <= 35, "lag \(lag)") } else { Issue.record("no lag_blocks") }
        #expect(isolated.id.hasSuffix(":\(lagging):1"))
        #expect(isolated.severity == .critical)
        // Isolated while lagging (before block 110): the healthy nodes keep the best path moving.
        let heightAtIsolation = p.cursorHeight
        #expect(heightAtIsolation < 110, "isolated only at \(heightAtIsolation)")
        try #require(await eventually(timeout: .seconds(30)) { !p.alerts(.nodeRecovered, node: lagging).isEmpty }, "\(p.logs)")
        let recovered = try #require(p.alerts(.nodeRecovered, node: lagging).first)
        #expect(recovered.id.hasSuffix(":\(lagging):1"))
        #expect(p.cursorHeight >= 110, "recovered before it caught up (cursor \(p.cursorHeight))")
        try #require(await eventually(timeout: .seconds(30)) { p.cursorHeight >= 200 }, "\(p.logs)")
        try await Task.sleep(for: .milliseconds(500))
        try p.expectContiguousCheckedBlocks(through: 200)
        #expect(p.alerts(.blockStall).isEmpty, "false stall: \(p.alerts(.blockStall).map(\.id))")
        #expect(p.alerts(.nodeIsolated).count == 1, "\(p.alerts(.nodeIsolated).map(\.id))")
        #expect(p.alerts(.nodeIsolated, node: p.urls[0]).isEmpty && p.alerts(.nodeIsolated, node: p.urls[1]).isEmpty)
    }

    // MARK: latency

    static let slowScenario = """
        name = "slow-node"
        history = 20
        block_interval_ms = 100
        end_at = 170

        [[nodes]]
        name = "devnode-0"

        [[nodes]]
        name = "devnode-1"
        rpc_delay_ms = 900
        rpc_delay_from = 50
        rpc_delay_until = 100
        """

    /// A node whose RPC answers take 900 ms between blocks 50 and 100 (latency bound 400 ms, sustained 1.5 s):
    /// NodeIsolated with reason latency and the measured latency, then NodeRecovered once it is fast again.
    @Test func aNodeAnsweringSlowlyIsIsolatedForLatencyAndRecovers() async throws {
        let config = Self.config.replacingOccurrences(of: "node_latency_isolate = \"5s\"", with: "node_latency_isolate = \"400ms\"")
        let p = try await Pipeline(scenario: Self.slowScenario, nodes: 2, config: config, tuning: Self.tuningValue + ",fork.latencySustain=1500")
        defer { p.close() }
        let slow = p.urls[1]
        try #require(await eventually(timeout: .seconds(25)) { !p.alerts(.nodeIsolated, node: slow).isEmpty }, "\(p.logs)")
        let isolated = try #require(p.alerts(.nodeIsolated, node: slow).first)
        #expect(isolated.fields["reason"] == .string("latency"))
        if case .int(let ms)? = isolated.fields["rpc_latency_ms"] { #expect(ms >= 400, "latency \(ms)") } else { Issue.record("no rpc_latency_ms") }
        #expect(p.cursorHeight >= 50 && p.cursorHeight < 100, "isolated at \(p.cursorHeight)")
        try #require(await eventually(timeout: .seconds(25)) { !p.alerts(.nodeRecovered, node: slow).isEmpty }, "\(p.logs)")
        #expect(p.cursorHeight >= 100)
        try #require(await eventually(timeout: .seconds(20)) { p.cursorHeight >= 170 }, "\(p.logs)")
        try await Task.sleep(for: .milliseconds(300))
        try p.expectContiguousCheckedBlocks(through: 170)
        #expect(p.alerts(.nodeIsolated).count == 1, "\(p.alerts(.nodeIsolated).map(\.id))")
        #expect(p.alerts(.blockStall).isEmpty)
    }

    // MARK: fail-over

    static let steadyScenario = """
        name = "steady"
        history = 20
        block_interval_ms = 100
        end_at = 190

        [[nodes]]
        name = "devnode-0"

        [[nodes]]
        name = "devnode-1"

        [[nodes]]
        name = "devnode-2"
        """

    /// The primary's watcher is killed with SIGKILL: the primary fails over to node 1, NodeDisconnected is raised
    /// (debounced), no block is missed; the watcher comes back: NodeReconnected and fail-back to node 0.
    @Test func killingThePrimarysWatcherFailsOverWithoutMissingABlock() async throws {
        let p = try await Pipeline(scenario: Self.steadyScenario, nodes: 3)
        defer { p.close() }
        try #require(await eventually(timeout: .seconds(20)) { p.cursorHeight >= 50 }, "\(p.logs)")
        // What the fork-worker logs from here on (start-up may switch primaries while the watchers say hello).
        let mark = (p.fork?.output ?? "").count
        func since() -> String { String((p.fork?.output ?? "").dropFirst(mark)) }
        p.watchers[0]?.signal(SIGKILL)
        _ = await p.watchers[0]?.wait(timeout: .seconds(2))
        let killedAt = p.cursorHeight
        try #require(await eventually(timeout: .seconds(15)) { since().contains("primary node changed") }, "\(p.logs)")
        #expect(since().contains("primary=\(p.urls[1])"), "\(p.logs)")
        try #require(await eventually(timeout: .seconds(15)) { !p.alerts(.nodeDisconnected, node: p.urls[0]).isEmpty }, "\(p.logs)")
        // Blocks keep being checked while the primary is gone.
        #expect(await eventually(timeout: .seconds(10)) { p.cursorHeight >= killedAt + 30 }, "stuck at \(p.cursorHeight) after the kill at \(killedAt)")
        p.watchers[0] = try p.watcher(0)
        try #require(await eventually(timeout: .seconds(15)) { !p.alerts(.nodeReconnected, node: p.urls[0]).isEmpty }, "\(p.logs)")
        #expect(await eventually(timeout: .seconds(10)) { since().contains("primary=\(p.urls[0])") }, "no fail-back\n\(p.logs)")
        try #require(await eventually(timeout: .seconds(30)) { p.cursorHeight >= 190 }, "\(p.logs)")
        try await Task.sleep(for: .milliseconds(500))
        try p.expectContiguousCheckedBlocks(through: 190)
        #expect(p.alerts(.nodeDisconnected).count == 1, "\(p.alerts(.nodeDisconnected).map(\.id))")
        #expect(p.alerts(.nodeDisconnected, node: p.urls[0]).first?.id.hasSuffix(":\(p.urls[0]):1") == true)
    }

    static let stoppingScenario = """
        name = "primary-node-stops"
        history = 20
        block_interval_ms = 100
        end_at = 150

        [[nodes]]
        name = "devnode-0"
        stop_at = 70

        [[nodes]]
        name = "devnode-1"
        """

    /// The primary node itself goes away at block 70 (devnode `stop_at`: listener closed, connections dropped):
    /// its watcher keeps reconnecting in vain, the primary fails over, NodeDisconnected is raised once, and every
    /// block up to the end is checked once, in order.
    @Test func thePrimaryNodeGoingAwayFailsOverWithoutMissingABlock() async throws {
        let p = try await Pipeline(scenario: Self.stoppingScenario, nodes: 2)
        defer { p.close() }
        try #require(await eventually(timeout: .seconds(20)) { p.devnode.output.contains("node devnode-0 stopped at block 70") }, "\(p.devnode.output)")
        try #require(await eventually(timeout: .seconds(15)) { !p.alerts(.nodeDisconnected, node: p.urls[0]).isEmpty }, "\(p.logs)")
        try #require(await eventually(timeout: .seconds(20)) { p.cursorHeight >= 150 }, "\(p.logs)")
        try await Task.sleep(for: .milliseconds(300))
        try p.expectContiguousCheckedBlocks(through: 150)
        #expect(p.alerts(.nodeDisconnected).count == 1)
        #expect(p.alerts(.nodeReconnected).isEmpty)
        let forkLog = p.fork?.output ?? ""
        #expect(forkLog.contains("primary=\(p.urls[1])"))
    }

    // MARK: a stalled watcher

    /// A watcher stopped with SIGSTOP (not dead: its sockets stay open, it reads nothing) does not slow anything:
    /// while it is stopped the best path advances at the production pace through the other nodes.
    @Test func aStoppedWatcherDoesNotSlowTheOthers() async throws {
        let p = try await Pipeline(scenario: Self.steadyScenario, nodes: 3)
        defer { p.close() }
        try #require(await eventually(timeout: .seconds(20)) { p.cursorHeight >= 40 }, "\(p.logs)")
        let stoppedWatcher = try #require(p.watchers[1])
        stoppedWatcher.signal(SIGSTOP)
        let before = p.cursorHeight
        let started = ContinuousClock.now
        try await Task.sleep(for: .seconds(4))
        let elapsed = ContinuousClock.now - started
        let advanced = p.cursorHeight - before
        let produced = Double(elapsed.components.seconds) * 10 + Double(elapsed.components.attoseconds) / 1e17
        print("stopped watcher: \(advanced) blocks checked in \(elapsed) (\(Int(produced)) produced)")
        // 100 ms blocks: ~40 produced; at least 70 % must have been checked meanwhile.
        #expect(Double(advanced) >= produced * 0.7, "only \(advanced) blocks checked in \(elapsed) with one watcher stopped\n\(p.logs)")
        stoppedWatcher.signal(SIGCONT)
        try #require(await eventually(timeout: .seconds(30)) { p.cursorHeight >= 190 }, "\(p.logs)")
        try await Task.sleep(for: .milliseconds(500))
        try p.expectContiguousCheckedBlocks(through: 190)
    }

    // MARK: ctl isolate / restore

    static let ctlScenario = """
        name = "ctl"
        history = 20
        block_interval_ms = 150
        end_at = 400

        [[nodes]]
        name = "devnode-0"

        [[nodes]]
        name = "devnode-1"
        """

    /// `supervisor ctl isolate` / `restore` on a running supervisor with the real workers: an unknown node is refused
    /// (exit 1, the nodes listed); isolating the primary moves the primary and raises NodeIsolated (reason manual);
    /// a restarted fork-worker gets the isolation again (no NodeRecovered); restore raises NodeRecovered.
    @Test func ctlIsolateAndRestoreOnARunningSupervisor() async throws {
        let p = try await Pipeline(scenario: Self.ctlScenario, nodes: 2, supervised: true)
        defer { p.close() }
        let supervisor = try ChildProcess(BuildProducts.executable("supervisor"), p.common,
                                          environment: [Self.tuning: Self.tuningValue, "CHAIN_ALERTER_WORKER_DIR": (BuildProducts.executable("supervisor") as NSString).deletingLastPathComponent],
                                          logPath: p.dir.file("supervisor.log"))
        defer { supervisor.killAndReap() }
        func ctl(_ args: [String]) async throws -> (Int32?, String) {
            let out = p.dir.file("ctl-\(UInt32.random(in: 0 ... .max)).out")
            let c = try ChildProcess(BuildProducts.executable("supervisor"), ["ctl"] + args + ["--state-dir", p.dir.path], environment: [:], inheritChainAlerterVariables: false, logPath: out)
            let code = await c.wait(timeout: .seconds(10))
            return (code, c.output)
        }
        func stopAll() async {
            supervisor.signal(SIGTERM)
            if await supervisor.wait(timeout: .seconds(15)) == nil { supervisor.killAndReap() }
        }
        try #require(await eventually(timeout: .seconds(40)) { p.cursorHeight >= 40 }, "\(supervisor.output.suffix(4000))")

        let (badCode, badOutput) = try await ctl(["isolate", "ws://127.0.0.1:1"])
        #expect(badCode == 1, "\(badOutput)")
        #expect(badOutput.contains("no node ws://127.0.0.1:1") && badOutput.contains(p.urls[0]), "\(badOutput)")

        let mark = supervisor.output.count
        let (code, output) = try await ctl(["isolate", "node-watcher-0"])
        #expect(code == 0, "\(output)")
        #expect(output.contains("isolated \(p.urls[0])"), "\(output)")
        try #require(await eventually(timeout: .seconds(10)) { !p.alerts(.nodeIsolated, node: p.urls[0]).isEmpty }, "\(supervisor.output.suffix(4000))")
        #expect(p.alerts(.nodeIsolated, node: p.urls[0]).first?.fields["reason"] == .string("manual"))
        #expect(await eventually(timeout: .seconds(5)) { supervisor.output.dropFirst(mark).contains("primary=\(p.urls[1])") })
        let atIsolation = p.cursorHeight
        #expect(await eventually(timeout: .seconds(10)) { p.cursorHeight >= atIsolation + 15 }, "blocks stopped after isolating the primary")

        // A restarted fork-worker is told again: still isolated, nothing recovered.
        let (restartCode, restartOutput) = try await ctl(["restart", "fork-worker"])
        #expect(restartCode == 0, "\(restartOutput)")
        #expect(await eventually(timeout: .seconds(15)) {
            supervisor.output.components(separatedBy: "node isolated by hand").count - 1 >= 2
        }, "\(supervisor.output.suffix(4000))")
        try await Task.sleep(for: .seconds(3))
        #expect(p.alerts(.nodeRecovered).isEmpty, "\(p.alerts(.nodeRecovered).map(\.id))")
        #expect(p.alerts(.nodeIsolated).count == 1)

        let (restoreCode, restoreOutput) = try await ctl(["restore", p.urls[0]])
        #expect(restoreCode == 0, "\(restoreOutput)")
        try #require(await eventually(timeout: .seconds(10)) { !p.alerts(.nodeRecovered, node: p.urls[0]).isEmpty }, "\(supervisor.output.suffix(4000))")
        #expect(p.alerts(.nodeRecovered, node: p.urls[0]).first?.id.hasSuffix(":\(p.urls[0]):1") == true)
        let atRestore = p.cursorHeight
        #expect(await eventually(timeout: .seconds(10)) { p.cursorHeight >= atRestore + 10 })

        // A crashed worker is restarted by the supervisor: one WorkerRestarted; then the alert-worker itself is
        // killed: its own WorkerRestarted, and the earlier notice (re-sent to the new process) is not stored twice.
        func pid(_ worker: String) -> Int32? {
            guard let line = supervisor.output.split(separator: "\n").last(where: { $0.contains("worker spawned") && $0.contains("worker=\(worker)") }),
                  let range = line.range(of: "pid=") else { return nil }
            return Int32(String(line[range.upperBound...].prefix { $0.isNumber }))
        }
        let watcherPID = try #require(pid("node-watcher-1"))
        kill(watcherPID, SIGKILL)
        try #require(await eventually(timeout: .seconds(15)) { !p.alerts(.workerRestarted).isEmpty }, "\(supervisor.output.suffix(3000))")
        #expect(p.alerts(.workerRestarted).first?.fields["worker"] == .string("node-watcher-1"))
        let alertPID = try #require(pid("alert-worker"))
        kill(alertPID, SIGKILL)
        try #require(await eventually(timeout: .seconds(20)) { p.alerts(.workerRestarted).count >= 2 }, "\(supervisor.output.suffix(3000))")
        try await Task.sleep(for: .seconds(1))
        let restarted = p.alerts(.workerRestarted).compactMap { a -> String? in if case .string(let w)? = a.fields["worker"] { w } else { nil } }
        #expect(restarted.sorted() == ["alert-worker", "node-watcher-1"], "\(restarted)")
        await stopAll()
    }
}
