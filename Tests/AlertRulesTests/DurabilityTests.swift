import Foundation
import Logging
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

/// Restarts: the engine state rides in the intake's block transaction; killing the worker at any point and
/// restarting from the store gives exactly the alert set of an undisturbed run.
@Suite(.enabled(if: RulesConformance.enabled, Comment(rawValue: RulesConformance.note)))
struct DurabilityTests {
    let logger = Logger(label: "rules-test")

    func makeIntake(_ store: AlertStore, run: String = "run-1", clock: @escaping () -> UInt64) throws -> (BlockIntake, AlertRulesPipeline) {
        var network = Fixtures.chronos
        network.thresholds.slotWindow = 20
        network.thresholds.farmerHistory = 30
        network.thresholds.farmerWindow = 5
        let pipeline = try AlertRulesPipeline(store: store, catalogue: Fixtures.catalogue, network: network, instance: "Test",
                                              runID: run, nodes: ["ws://node-a:9944"], logger: logger)
        pipeline.cache(RulesConformance.metadata!, specVersion: 6)
        pipeline.primaryNode = "ws://node-a:9944"
        pipeline.clock = clock
        return (try BlockIntake(store: store, rules: pipeline, window: 1000, logger: logger), pipeline)
    }

    func allAlerts(_ store: AlertStore) throws -> [String] {
        try store.read("all") { db in try String.fetchAll(db, sql: "SELECT id FROM alert ORDER BY id") }
    }

    func tempStore() throws -> (AlertStore, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString)")
        let path = dir.appendingPathComponent("chain-alerter.sqlite")
        return (try AlertStore(location: .sqliteFile(path: path.path), logger: logger), dir)
    }

    /// Feeds `blocks` (with a stall window in the middle) to a fresh worker; `crashAfter` lists the indices after
    /// which the worker "dies" (objects dropped, a new one opened on the same file), the fork-worker re-sending
    /// from the beginning each time (every block again, as a replay after the cursor would at worst).
    func run(_ blocks: [CanonicalBlock], crashAfter: Set<Int>, crashBeforeCommit: Set<Int> = []) throws -> [String] {
        let (store, dir) = try tempStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        var now: UInt64 = 1_750_000_000_000
        var (intake, pipeline) = try makeIntake(store) { now }
        var i = 0
        var crashed = Set<Int>()
        while i < blocks.count {
            now = 1_750_000_000_000 + UInt64(i) * 6000 + (i >= 40 ? 120_000 : 0) // a 2-minute stall before block 40
            if i == 40 { _ = try pipeline.tick(now: now - 1000) } // the clock ticks during the stall
            if crashBeforeCommit.contains(i), !crashed.contains(i) {
                // Killed between the rules and the commit: the rules ran, nothing was written.
                _ = try pipeline.alerts(for: blocks[i])
                crashed.insert(i)
                (intake, pipeline) = try makeIntake(try AlertStore(location: .sqliteFile(path: store.path!), logger: logger)) { now }
                i = 0
                continue
            }
            _ = try intake.receive(blocks[i])
            if crashAfter.contains(i), !crashed.contains(i) {
                crashed.insert(i)
                (intake, pipeline) = try makeIntake(try AlertStore(location: .sqliteFile(path: store.path!), logger: logger)) { now }
                i = 0 // the fork-worker re-sends everything; already-checked blocks are skipped
                continue
            }
            i += 1
        }
        let ids = try allAlerts(store)
        // Exactly once: no block was committed twice.
        #expect(try store.checkedBlocks().allSatisfy { $0.commits == 1 })
        return ids
    }

    @Test func killAtRandomPointsGivesTheUndisturbedAlertSet() throws {
        let generator = try ChainGenerator(conformanceSubspace: RulesConformance.subspace)
        let blocks = generator.chain(count: 80, slowFrom: 50)
        let reference = try run(blocks, crashAfter: [])
        let kinds = Set(reference.map { String($0.prefix { $0 != ":" }) })
        // The scenario exercises state that must survive: startup, stall/resume, slot status, sudo, transfers, slashes.
        #expect(kinds.isSuperset(of: ["Startup", "BlockStall", "BlockResumed", "SlowSlotTime", "SudoCall", "LargeBalanceTransfer",
                                      "ForceBalanceTransfer", "OperatorSlashed"]))
        var rng = SystemRandomNumberGenerator()
        for _ in 0 ..< 4 {
            let crashes = Set((0 ..< 5).map { _ in Int.random(in: 0 ..< blocks.count, using: &rng) })
            let before = Set((0 ..< 2).map { _ in Int.random(in: 0 ..< blocks.count, using: &rng) })
            let disturbed = try run(blocks, crashAfter: crashes, crashBeforeCommit: before)
            #expect(disturbed == reference, "crashes after \(crashes.sorted()), before commit \(before.sorted())")
        }
    }

    @Test func startupIsAnnouncedWhileMetadataIsMissing() throws {
        let (store, dir) = try tempStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pipeline = try AlertRulesPipeline(store: store, catalogue: Fixtures.catalogue, network: Fixtures.chronos, instance: "Test",
                                              runID: "r", nodes: ["ws://a"], logger: logger)
        let intake = try BlockIntake(store: store, rules: pipeline, window: 1000, logger: logger)
        let c = try RulesConformance.canonical(1001, mode: .current)
        #expect(throws: AlertRulesError.self) { _ = try intake.receive(c) }
        #expect(try allAlerts(store) == ["Startup:91912b429ce7bf29:r"])
        #expect(try store.cursor(named: AlertStore.alertWorkerCursor) == nil) // the block itself waits
        pipeline.cache(RulesConformance.metadata!, specVersion: 6)
        #expect(try intake.receive(c) == .committed(newAlerts: 1, lastRowID: 2)) // SudoCall; no second Startup
    }

    @Test func restartLoadsStateAndNeverReAlerts() throws {
        let (store, dir) = try tempStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (intake, pipeline) = try makeIntake(store) { 1_750_000_000_000 }
        for n in 1000 ... 1005 { _ = try intake.receive(try RulesConformance.canonical(n)) }
        // An open stall is remembered across the restart.
        _ = try pipeline.tick(now: 1_750_000_000_000 + 70_000)
        let before = try allAlerts(store)
        #expect(before.contains { $0.hasPrefix("BlockStall:") } == false) // replay blocks do not feed the stall timer
        _ = try pipeline.observe(node: "ws://node-b:9944", height: 1005, hash: [1], at: 1_750_000_000_000)
        _ = try pipeline.tick(now: 1_750_000_000_000 + 70_000)
        let stalled = try allAlerts(store)
        #expect(stalled.filter { $0.hasPrefix("BlockStall:") }.count == 1)
        let (intake2, pipeline2) = try makeIntake(try AlertStore(location: .sqliteFile(path: store.path!), logger: logger)) { 1_750_000_000_000 }
        #expect(pipeline2.engine.state == pipeline.engine.state)
        #expect(pipeline2.engine.state.stall.nodes["ws://node-b:9944"]?.openStall != nil)
        // Same input again → nothing new; the open stall does not alert again.
        for n in 1000 ... 1005 { #expect(try intake2.receive(try RulesConformance.canonical(n)) == .alreadyChecked) }
        _ = try pipeline2.tick(now: 1_750_000_000_000 + 200_000)
        #expect(try allAlerts(store) == stalled)
        // Binary and JSON round trips of the state are exact.
        let bytes = AlertRulesPipeline.encode(pipeline2.engine.state)
        #expect(try RuleStateCodec.decode(bytes) == pipeline2.engine.state)
        let json = try JSONEncoder().encode(pipeline2.engine.state)
        #expect(try RuleStateCodec.decode([UInt8](json)) == pipeline2.engine.state)
    }
}
