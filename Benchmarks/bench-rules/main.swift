// bench-rules: the alert rules applied to 10,000 decoded blocks, each committed (alerts + cursor + checked
// hash + rule state) in its own SQLite transaction, as the alert-worker does.
//   CHAIN_ALERTER_BENCHMARKS=1 swift build -c release --scratch-path .build-release
//   .build-release/release/bench-rules [--blocks N] [--conformance DIR]
// The rules sources are symlinks into Sources/alert-worker (an executable target cannot be imported).
import Foundation
import Logging
import AlertRules
import TestKit
import Store
import Wire
import WorkerRuntime
import SubstrateRuntime
import SubstratePrimitives

var count = 10_000
var alertEvery: Int?
var conformance = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).deletingLastPathComponent().appendingPathComponent("shared/conformance")
if let env = ProcessInfo.processInfo.environment["CHAIN_ALERTER_CONFORMANCE"] { conformance = URL(fileURLWithPath: env) }
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    if a == "--blocks", let n = args.popFirst().flatMap({ Int($0) }) { count = n }
    if a == "--conformance", let d = args.popFirst() { conformance = URL(fileURLWithPath: d) }
    if a == "--alert-every", let n = args.popFirst().flatMap({ Int($0) }) { alertEvery = n }
}
let logger = Logger(label: "bench-rules")
let subspace = conformance.appendingPathComponent("substrate/subspace")
let metadata = try RuntimeMetadata(bytes: [UInt8](try Data(contentsOf: conformance.appendingPathComponent("substrate/metadata/chronos_spec6_v14.scale"))))
let generator = try ChainGenerator(conformanceSubspace: subspace)
let blocks = generator.chain(count: count, mode: .current, slowFrom: count / 2, alertEvery: alertEvery)
print("chain: \(count) blocks, " + (alertEvery.map { "an alerting block every \($0)" } ?? "alerting blocks 6 of every 20 (stress mix)"))

let catalogue = try NetworkCatalogue()
let network = catalogue.named("Autonomys Chronos Testnet")!
let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-rules-\(UUID().uuidString)")
defer { try? FileManager.default.removeItem(at: dir) }

func clockMs() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }

// 1. Rules on pre-decoded blocks + the per-block transaction.
do {
    let store = try AlertStore(location: .sqliteFile(path: dir.appendingPathComponent("a.sqlite").path), logger: logger)
    let decodeStart = Date()
    var decoded: [RuleBlock] = []
    decoded.reserveCapacity(blocks.count)
    var received: UInt64 = 1_750_000_000_000
    for c in blocks {
        received += 6000
        let d = try metadata.decodeBlock(header: c.block.header!, extrinsics: c.block.extrinsics!, events: c.block.events)
        decoded.append(RuleBlock(decoded: d, specVersion: 6, node: "ws://node", receivedAtMilliseconds: received, mode: .current))
    }
    let decodeSeconds = Date().timeIntervalSince(decodeStart)
    var engine = AlertRuleEngine(network: network, instance: "bench", runID: "bench", nodes: ["ws://node"])
    var alerts = 0
    let start = Date()
    var tCheck = 0.0, tState = 0.0, tCommit = 0.0
    for b in decoded {
        let t0 = Date()
        let outcome = engine.check(block: b)
        let t1 = Date()
        let hash = Hex.encode(b.hash)
        let state = AlertRulesPipeline.encode(engine.state)
        let t2 = Date()
        let result = try store.commitCheckedBlock(hash: hash, height: b.height, alerts: outcome.alerts,
                                                  cursor: StoreCursor(name: AlertStore.alertWorkerCursor, height: b.height, hash: hash),
                                                  pruneBelowHeight: b.height > 2000 ? b.height - 2000 : 0,
                                                  ruleState: state)
        tCheck += t1.timeIntervalSince(t0); tState += t2.timeIntervalSince(t1); tCommit += Date().timeIntervalSince(t2)
        alerts += result?.inserted.count ?? 0
    }
    let seconds = Date().timeIntervalSince(start)
    print(String(format: "  split: rules %.3f s, state encode %.3f s (%d bytes), commit %.3f s", tCheck, tState,
                 AlertRulesPipeline.encode(engine.state).count, tCommit))
    print(String(format: "rules+commit on %d decoded blocks: %.3f s = %.0f blocks/s (%d alerts stored; decoding alone took %.3f s = %.0f blocks/s)",
                 decoded.count, seconds, Double(decoded.count) / seconds, alerts, decodeSeconds, Double(decoded.count) / decodeSeconds))
}

// 2. The whole intake path: CanonicalBlock → decode → rules → commit (what the alert-worker does per frame).
do {
    let store = try AlertStore(location: .sqliteFile(path: dir.appendingPathComponent("b.sqlite").path), logger: logger)
    let pipeline = try AlertRulesPipeline(store: store, catalogue: catalogue, network: network, instance: "bench", runID: "bench",
                                          nodes: ["ws://node"], logger: logger)
    pipeline.cache(metadata, specVersion: 6)
    pipeline.primaryNode = "ws://node"
    let intake = try BlockIntake(store: store, rules: pipeline, window: 1000, logger: logger)
    let start = Date()
    for c in blocks { _ = try intake.receive(c) }
    let seconds = Date().timeIntervalSince(start)
    print(String(format: "intake (decode+rules+commit) on %d blocks: %.3f s = %.0f blocks/s", blocks.count, seconds, Double(blocks.count) / seconds))
}
