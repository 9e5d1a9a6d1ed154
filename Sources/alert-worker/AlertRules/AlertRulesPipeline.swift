import Foundation
import Logging
import Metrics
import SubstrateRuntime
import SubstratePrimitives
import Store
import Wire
import WorkerRuntime

/// Why a block could not be checked; the message says what to look at.
package enum AlertRulesError: Error, Sendable, CustomStringConvertible {
    /// No metadata is cached for the block's spec version and the block carried none.
    case missingMetadata(specVersion: UInt32?, height: UInt64)
    case badMetadata(specVersion: UInt32, DecodeTool.Failure)
    case undecodable(height: UInt64, BlockDecodingError)
    case incompleteBlock(height: UInt64, missing: String)
    case corruptState(String)
    case store(StoreError)

    package var description: String {
        switch self {
        case .missingMetadata(let v, let h):
            "block \(h): no runtime metadata for spec version \(v.map(String.init) ?? "unknown"); the fork-worker must forward ChainIdentity with metadata for every spec version (or attach it to the block); the block waits at the cursor"
        case .badMetadata(let v, let e): "spec version \(v): \(e)"
        case .undecodable(let h, let e): "block \(h): \(e)"
        case .incompleteBlock(let h, let what): "block \(h): the fork-worker sent no \(what)"
        case .corruptState(let m): "stored rule state is unreadable (\(m)); delete the rule_state row to start the rules afresh"
        case .store(let e): e.description
        }
    }
}

/// The alert-worker's rule stage: metadata cache per spec version → decode → `AlertRuleEngine` → one store
/// transaction with the block's alerts, the cursor and the engine state. Duplicates that are never posted are
/// counted (`chain_alerter_alerts_suppressed_total{kind}`) and logged at debug, never stored.
package final class AlertRulesPipeline {
    package private(set) var engine: AlertRuleEngine
    package let store: AlertStore
    package let catalogue: NetworkCatalogue
    package let logger: Logger
    private var metadata: [UInt32: RuntimeMetadata] = [:]
    private var currentSpec: UInt32?
    /// Kinds counted as suppressed duplicates (also exported as a metric by the caller).
    package private(set) var suppressedCounts: [AlertKind: Int] = [:]
    package var onSuppressed: (AlertPayload) -> Void = { _ in }
    /// Wall clock, Unix ms (injected in tests).
    package var clock: () -> UInt64 = { UInt64(Date().timeIntervalSince1970 * 1000) }
    /// The primary node URL: Current best-fork blocks drive its stall timer.
    package var primaryNode: String?
    /// The state before the last `alerts(for: block)`, until the intake commits or discards it.
    fileprivate var pendingRollback: AlertRuleEngine.State?

    /// Loads the saved engine state, if any (a restart continues where it left off).
    package init(store: AlertStore, catalogue: NetworkCatalogue, network: AlertNetwork, instance: String, runID: String, nodes: [String],
         logger: Logger) throws(AlertRulesError) {
        self.store = store
        self.catalogue = catalogue
        self.logger = logger
        engine = AlertRuleEngine(network: network, instance: instance, runID: runID, nodes: nodes)
        let saved: [UInt8]?
        do { saved = try store.ruleState() } catch { throw .store(error) }
        if let saved {
            do {
                engine.state = try RuleStateCodec.decode(saved)
            } catch {
                throw .corruptState("\(error)")
            }
        }
    }

    /// The engine state as stored.
    package static func encode(_ state: AlertRuleEngine.State) -> [UInt8] { RuleStateCodec.encode(state) }

    /// A `ChainIdentity` from the fork-worker: (re)detect the network and cache the runtime's metadata.
    package func apply(identity: ChainIdentity) throws(AlertRulesError) {
        let network = catalogue.detect(genesisHash: identity.genesisHash, chainName: identity.chainName, ss58Format: identity.ss58Format,
                                       tokenDecimals: identity.tokenDecimals, tokenSymbol: identity.tokenSymbol)
        if network != engine.network {
            logger.info("network detected", metadata: ["network": "\(network.name)", "chain": "\(identity.chainName)"])
            engine.network = network
        }
        if let bytes = identity.metadata { try cache(bytes, specVersion: identity.specVersion) }
        currentSpec = identity.specVersion
    }

    package func cache(_ bytes: [UInt8], specVersion: UInt32) throws(AlertRulesError) {
        guard metadata[specVersion] == nil else { return }
        do { metadata[specVersion] = try DecodeTool.metadata(from: bytes) } catch { throw .badMetadata(specVersion: specVersion, error) }
    }

    /// Metadata already parsed (tests and the benchmark share one).
    package func cache(_ parsed: RuntimeMetadata, specVersion: UInt32) {
        metadata[specVersion] = parsed
        if currentSpec == nil { currentSpec = specVersion }
    }

    /// Decodes a canonical block with the metadata of its own spec version.
    package func decode(_ c: CanonicalBlock, node: String?, receivedAtMilliseconds: UInt64?) throws(AlertRulesError) -> RuleBlock {
        let spec = c.block.specVersion ?? currentSpec
        if let spec, let bytes = c.block.metadata { try cache(bytes, specVersion: spec) }
        guard let spec, let meta = metadata[spec] else { throw .missingMetadata(specVersion: spec, height: c.height) }
        guard let header = c.block.header else { throw .incompleteBlock(height: c.height, missing: "header") }
        guard let extrinsics = c.block.extrinsics else { throw .incompleteBlock(height: c.height, missing: "body") }
        let decoded: DecodedBlock
        do { decoded = try meta.decodeBlock(header: header, extrinsics: extrinsics, events: c.block.events) } catch {
            throw .undecodable(height: c.height, error)
        }
        return RuleBlock(decoded: decoded, specVersion: spec, node: node, receivedAtMilliseconds: receivedAtMilliseconds, mode: c.mode)
    }

    /// Runs the rules on one best-fork block and commits its alerts, the cursor and the state in one transaction.
    @discardableResult
    package func process(_ block: RuleBlock) throws(AlertRulesError) -> CommitResult {
        let before = engine.state
        let outcome = engine.check(block: block)
        let cursor = StoreCursor(name: AlertStore.alertWorkerCursor, height: block.height, hash: Hex.encode(block.hash))
        return try commit(outcome, cursor: cursor, rollback: before)
    }

    /// A fork event from the fork-worker.
    @discardableResult
    package func process(forkEvent: ForkEvent, mode: CanonicalMode, node: String?, at ms: UInt64) throws(AlertRulesError) -> CommitResult {
        let before = engine.state
        return try commit(engine.apply(forkEvent: forkEvent, mode: mode, node: node, at: ms), cursor: nil, rollback: before)
    }

    /// A node's best height (per-node stall detection).
    @discardableResult
    package func observe(node: String, height: UInt64, hash: [UInt8], at ms: UInt64) throws(AlertRulesError) -> CommitResult {
        let before = engine.state
        return try commit(engine.observe(node: node, height: height, hash: hash, at: ms), cursor: nil, rollback: before)
    }

    /// A node verdict from the fork-worker (node alerts, stall suppression).
    @discardableResult
    package func apply(verdict: NodeVerdict, at ms: UInt64) throws(AlertRulesError) -> CommitResult {
        let before = engine.state
        let result = try commit(engine.apply(verdict: verdict, at: ms), cursor: nil, rollback: before)
        publishConditions()
        return result
    }

    /// The supervisor restarted a crashed or hung worker: one WorkerRestarted per restart (a notice given again is
    /// stored once).
    @discardableResult
    package func workerRestarted(worker: String, restart: Int, lastExit: String, at ms: UInt64) throws(AlertRulesError) -> CommitResult {
        let before = engine.state
        return try commit(engine.workerRestarted(worker: worker, restart: restart, lastExit: lastExit, at: ms), cursor: nil, rollback: before)
    }

    /// `chain_alerter_condition_open{kind, node}`: 1 while a BlockStall, NodeIsolated or NodeDisconnected
    /// condition is open, 0 once it closed (the metrics contract with /metrics and /status).
    package func publishConditions() {
        let s = engine.state
        var open: [String: [String: Bool]] = ["BlockStall": [:], "NodeIsolated": [:], "NodeDisconnected": [:]]
        for (node, n) in s.stall.nodes { open["BlockStall"]![node] = n.openStall != nil }
        for (node, n) in s.health?.nodes ?? [:] {
            open["NodeIsolated"]![node] = n.isolated
            open["NodeDisconnected"]![node] = n.disconnected
        }
        for (kind, nodes) in open {
            for (node, isOpen) in nodes {
                Gauge(label: "chain_alerter_condition_open", dimensions: [("kind", kind), ("node", node)]).record(isOpen ? 1 : 0)
            }
        }
    }

    /// Clock tick for stall detection (call every second or so).
    @discardableResult
    package func tick(now ms: UInt64) throws(AlertRulesError) -> CommitResult? {
        let before = engine.state
        let outcome = engine.tick(now: ms)
        guard !outcome.alerts.isEmpty else { return nil }
        return try commit(outcome, cursor: nil, rollback: before)
    }

    private func commit(_ outcome: AlertRuleEngine.Outcome, cursor: StoreCursor?, rollback: AlertRuleEngine.State) throws(AlertRulesError) -> CommitResult {
        let alerts = count(outcome)
        do {
            return try store.commitBlock(alerts: alerts, cursor: cursor, ruleState: Self.encode(engine.state))
        } catch {
            // Not committed: the state must not run ahead of the store, or a retry would miss its alerts.
            engine.state = rollback
            throw .store(error)
        }
    }
}

/// The pipeline is the intake's `BlockRules`: the intake commits the returned alerts, its cursor, the checked
/// hash and `pendingState()` in one transaction, and calls `discardPending()` when it did not commit.
extension AlertRulesPipeline: BlockRules {
    package func alerts(for block: CanonicalBlock) throws -> [AlertPayload] {
        let now = clock()
        // Only a Current block's arrival time says when the node received it (see RuleBlock).
        let b: RuleBlock
        do {
            b = try decode(block, node: primaryNode, receivedAtMilliseconds: block.mode == .current ? now : nil)
        } catch {
            guard block.mode == .current, case .missingMetadata = error else { throw error }
            // The block waits for metadata, but the start is announced now (same id later: inserted once).
            let stamp = BlockStamp(height: block.height, hash: block.block.blockHash, chainTime: nil, localTime: now, slot: nil)
            if let startup = engine.startup(block: stamp, node: primaryNode, at: now) {
                do {
                    try store.commitBlock(alerts: [startup], cursor: nil, ruleState: Self.encode(engine.state))
                } catch {
                    engine.state.startupRun = nil
                    throw AlertRulesError.store(error)
                }
            }
            throw error
        }
        pendingRollback = engine.state
        var alerts: [AlertPayload] = []
        if block.mode == .current, let primaryNode {
            // The best fork feeds the primary's stall timer even before per-node heights are forwarded.
            alerts += count(engine.observe(node: primaryNode, height: b.height, hash: b.hash, at: now))
        }
        alerts += count(engine.check(block: b))
        return alerts
    }

    package func alerts(for event: ForkEvent) throws -> [AlertPayload] {
        count(engine.apply(forkEvent: event, mode: .current, node: nil, at: clock()))
    }

    package func pendingState() -> [UInt8]? { Self.encode(engine.state) }

    package func discardPending() {
        if let pendingRollback { engine.state = pendingRollback }
        pendingRollback = nil
    }

    private func count(_ outcome: AlertRuleEngine.Outcome) -> [AlertPayload] {
        for s in outcome.suppressed {
            suppressedCounts[s.kind, default: 0] += 1
            Counter(label: "chain_alerter_alerts_suppressed_total", dimensions: [("kind", s.kind.rawValue)]).increment()
            logger.debug("skipping duplicate alert", metadata: ["kind": "\(s.kind.rawValue)", "id": "\(s.id)"])
            onSuppressed(s)
        }
        return outcome.alerts
    }
}

extension AlertRulesPipeline {
    /// The production pipeline: bundled networks + the user's config, the saved state, one Startup per run.
    /// The network starts as the primary's guess (Mainnet) and is re-detected from the first ChainIdentity.
    package static func make(configuration: Configuration, environment: [String: String], store: AlertStore, logger: Logger) throws -> AlertRulesPipeline {
        let catalogue = try NetworkCatalogue(configuration: configuration)
        let network = catalogue.named("Autonomys Mainnet") ?? catalogue.networks[0]
        let pipeline = try AlertRulesPipeline(store: store, catalogue: catalogue, network: network, instance: configuration.name,
                                              runID: RunIdentity.current(environment), nodes: configuration.nodeRPCURLs, logger: logger)
        pipeline.primaryNode = configuration.nodeRPCURLs.first
        return pipeline
    }
}

/// Which supervisor run this process belongs to: Startup is alerted once per run, not once per worker restart.
package enum RunIdentity {
    /// `CHAIN_ALERTER_RUN_ID` if the supervisor sets it; else the parent's pid and start time (from /proc), which
    /// stay the same while the supervisor restarts this worker.
    package static func current(_ environment: [String: String]) -> String {
        if let id = environment["CHAIN_ALERTER_RUN_ID"], !id.isEmpty { return id }
        let parent = getppid()
        if let stat = try? String(contentsOfFile: "/proc/\(parent)/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // Field 22 (starttime) is the 20th after the command name.
            if fields.count > 19 { return "ppid\(parent)-\(fields[19])" }
        }
        return "ppid\(parent)"
    }
}
