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

/// The whole data path as real processes (devnode → node-watcher → fork-worker → alert-worker with the real
/// rules → SQLite), run twice over the same scenario: once undisturbed, once with the alert-worker killed
/// with SIGKILL at random points and restarted. The alert sets must be equal: nothing missing, nothing twice.
@Suite("AlertWorkerKill", .serialized)
struct AlertWorkerKillTests {
    static let scenario = """
        name = "alert-worker-kill"
        history = 20
        block_interval_ms = 70
        end_at = 110

        [[nodes]]
        name = "devnode-0"

        [[actions]]
        kind = "sudo"
        at = 28

        [[actions]]
        kind = "large_transfer"
        at = 36
        amount = 2000000

        [[actions]]
        kind = "force_transfer"
        at = 45

        [[actions]]
        kind = "operator_slashed"
        at = 52

        [[actions]]
        kind = "farmer_votes"
        at = 58
        count = 4

        [[actions]]
        kind = "sudo"
        at = 66

        [[actions]]
        kind = "runtime_upgrade"
        at = 74

        [[actions]]
        kind = "force_transfer"
        at = 83

        [[actions]]
        kind = "operator_offline"
        at = 91

        [[actions]]
        kind = "sudo"
        at = 102

        [[forks]]
        at = 95
        length = 3
        reorg = true
        """

    /// Kinds whose presence depends on wall-clock timing rather than on the chain (the Startup alert is per
    /// run; stalls and slot timing depend on how fast the processes ran).
    static let timingKinds: Set<AlertKind> = [.startup, .blockStall, .blockResumed, .slowSlotTime, .fastSlotTime, .nodeDisconnected,
                                                .nodeReconnected, .nodeIsolated, .nodeRecovered, .workerRestarted]

    struct Outcome {
        /// (kind, block height) of every chain-determined alert, sorted; duplicates kept.
        var alerts: [String]
        var ids: [String]
        var kills: Int
    }

    /// One run; with `kill`, the alert-worker is killed and restarted until the scenario ends.
    func run(seed: UInt64, kill: Bool) async throws -> Outcome {
        var rng = SplitMix64(state: seed)
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.scenario.write(toFile: dir.file("scenario.toml"), atomically: true, encoding: .utf8)
        let devnode = try ChildProcess(BuildProducts.executable("devnode"), ["--port", "0", "--scenario", dir.file("scenario.toml")],
                                       environment: [:], inheritChainAlerterVariables: false, logPath: dir.file("devnode.log"))
        defer { devnode.killAndReap() }
        var url = ""
        try #require(await eventually(timeout: .seconds(20)) {
            url = devnode.output.split(separator: "\n").first { $0.contains("listening") }?.split(separator: "url=").last.map(String.init) ?? ""
            return !url.isEmpty
        }, "\(devnode.output)")
        let common = ["--state-dir", dir.path, "--slack=false", "--node-rpc-url", url]
        let tuning = ["CHAIN_ALERTER_TUNING": "fork.cursorStuck=800,fork.tick=20"]
        func alertWorker() throws -> ChildProcess {
            try ChildProcess(BuildProducts.executable("alert-worker"), common, environment: [:], inheritChainAlerterVariables: false, logPath: dir.file("alert-worker.log"))
        }
        var alert = try alertWorker()
        defer { alert.killAndReap() }
        let fork = try ChildProcess(BuildProducts.executable("fork-worker"), common, environment: tuning, inheritChainAlerterVariables: false, logPath: dir.file("fork-worker.log"))
        defer { fork.killAndReap() }
        let watcher = try ChildProcess(BuildProducts.executable("node-watcher"), common + ["--watch-node", url],
                                       environment: ["CHAIN_ALERTER_WORKER_NAME": "node-watcher-0"], inheritChainAlerterVariables: false, logPath: dir.file("watcher.log"))
        defer { watcher.killAndReap() }

        var kills = 0
        if kill {
            while !devnode.output.contains("ended at block") {
                try await Task.sleep(for: .milliseconds(250 + Int(rng.next() % 700)))
                alert.killAndReap()
                kills += 1
                try await Task.sleep(for: .milliseconds(Int(rng.next() % 300)))
                alert = try alertWorker()
            }
        }
        try #require(await eventually(timeout: .seconds(60)) { devnode.output.contains("ended at block") }, "\(devnode.output)")
        let store = try AlertStore(location: .sqliteFile(path: dir.file("chain-alerter.sqlite")), logger: Logger(label: "test"))
        let caughtUp = await eventually(timeout: .seconds(40)) {
            ((try? store.cursor(named: AlertStore.alertWorkerCursor))??.height ?? 0) >= 110
        }
        try #require(caughtUp, "seed \(seed): the alert-worker never reached block 110\n\(alert.output.suffix(3000))\n\(fork.output.suffix(2000))")
        let payloads = try store.read("alerts") { db in try String.fetchAll(db, sql: "SELECT payload FROM alert ORDER BY row_id") }
        let decoded = try payloads.map { try AlertPayload.decode(Data($0.utf8)) }
        let alerts = decoded.filter { !Self.timingKinds.contains($0.kind) }
            .map { "\($0.kind.rawValue)@\($0.block?.height ?? 0)" }.sorted()
        return Outcome(alerts: alerts, ids: decoded.map(\.id), kills: kills)
    }

    @Test func killingTheAlertWorkerAtRandomPointsGivesTheUndisturbedAlertSet() async throws {
        let seed = UInt64.random(in: 0 ... .max)
        let undisturbed = try await run(seed: seed, kill: false)
        // The scenario's alerts are all there (so the comparison below means something).
        for expected in ["SudoCall@28", "LargeBalanceTransfer@36", "ForceBalanceTransfer@45", "OperatorSlashed@52", "SudoCall@66",
                         "ForceBalanceTransfer@83", "SudoCall@102"] {
            #expect(undisturbed.alerts.contains(expected), "\(expected) missing from \(undisturbed.alerts)")
        }
        let disturbed = try await run(seed: seed, kill: true)
        print("alert-worker kill: seed \(seed), \(disturbed.kills) kills, \(disturbed.alerts.count) chain alerts (undisturbed \(undisturbed.alerts.count): \(undisturbed.alerts.joined(separator: " ")))")
        #expect(disturbed.kills >= 3, "seed \(seed): the scenario ended before the alert-worker was killed often enough")
        #expect(disturbed.alerts == undisturbed.alerts, "seed \(seed)")
        #expect(Set(disturbed.ids).count == disturbed.ids.count, "seed \(seed): an alert id was stored twice")
    }
}
