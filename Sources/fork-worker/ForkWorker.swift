import Glibc
import Logging
import Metrics
import ForkChoice
import WorkerRuntime
import Wire
import SubstrateRuntime
import SubstratePrimitives

/// The fork-worker's sockets (see docs/DESIGN.md "Fork worker and exactly-once").
enum ForkWorkerEndpoints {
    static func blocks(_ stateDirectory: String) -> String { BusEndpoints.blocks(stateDirectory: stateDirectory) }
    static func fetch(_ stateDirectory: String) -> String { BusEndpoints.fetch(stateDirectory: stateDirectory) }
    static func alertWorker(_ stateDirectory: String) -> String { BusEndpoints.alertWorker(stateDirectory: stateDirectory) }
}

/// Timings of the fork-worker's shell; tests shorten them through the `fork.*` knobs of `CHAIN_ALERTER_TUNING`.
struct ForkWorkerTimings: Sendable {
    /// How long to wait for the alert-worker's first cursor report before starting without one.
    var cursorWaitMilliseconds: Int64 = 5000
    /// A cursor that stays short of the last block sent for this long means a message was lost.
    var cursorStuckMilliseconds: Int64 = 3000
    var tickMilliseconds: UInt64 = 100
    /// Node verdict timings that tests shorten (`lagSustain`, `latencySustain`, `disconnectAfter`,
    /// `reconnectStable`, `stale`, `settle`, milliseconds); the thresholds themselves come from `[alerts]`.
    var roster: [String: Int64] = [:]

    /// The roster settings from the configuration's thresholds and these overrides.
    func rosterSettings(_ thresholds: AlertThresholds) -> NodeRoster.Settings {
        var s = NodeRoster.Settings(thresholds: thresholds)
        if let v = roster["lagSustain"] { s.lagSustainMilliseconds = v }
        if let v = roster["latencySustain"] { s.latencySustainMilliseconds = v }
        if let v = roster["disconnectAfter"] { s.disconnectAfterMilliseconds = v }
        if let v = roster["reconnectStable"] { s.reconnectStableMilliseconds = v }
        if let v = roster["stale"] { s.staleAfterMilliseconds = v }
        if let v = roster["settle"] { s.settleMilliseconds = v }
        return s
    }

    /// `cursorWait=MS,cursorStuck=MS,tick=MS` plus the roster keys above.
    static func fromEnvironment(_ environment: [String: String]) -> ForkWorkerTimings {
        var t = ForkWorkerTimings()
        for (key, v) in Tuning.integers(scope: "fork", environment: environment) {
            switch key {
            case "cursorWait": t.cursorWaitMilliseconds = v
            case "cursorStuck": t.cursorStuckMilliseconds = v
            case "tick": t.tickMilliseconds = UInt64(max(1, v))
            case "lagSustain", "latencySustain", "disconnectAfter", "reconnectStable", "stale", "settle": t.roster[key] = max(0, v)
            default: continue
            }
        }
        return t
    }
}

/// The fork-worker's shell around `ForkTracker`: decodes bus messages, performs the tracker's fetches
/// through the watchers, fetches the data of blocks to emit and sends them in chain order, and replays
/// after the alert-worker's cursor. Runs on one task; every method is called from it.
final class ForkWorker {
    /// A block waiting for its data before it can be sent.
    private struct Emission {
        var link: BlockLink
        var mode: CanonicalMode
        var startsChain: Bool
        var block: FetchedBlock
        var missing: Set<UInt8>
    }

    private let settings: ForkSettings
    private let timings: ForkWorkerTimings
    private let logger: Logger
    private let send: (_ socket: ForkWorkerSocket, _ routingID: [UInt8]?, _ payload: [UInt8]) -> Void
    private var writer: EnvelopeWriter
    private var roster: NodeRoster
    private var fetches = FetchClient()
    private(set) var tracker: ForkTracker?
    private var headers: [BlockHash: [UInt8]] = [:]
    private var emissions: [Emission] = []
    private var queuedHashes: Set<BlockHash> = []
    private var buffered: [(BlockLink, Bool)] = []
    private let startedAt: Int64
    private var primary: Int?

    // The alert-worker's cursor as last reported, and what was sent last.
    private var cursorInstance: UInt64?
    private var cursor: (hash: BlockHash, height: UInt64)?
    private var cursorChangedAt: Int64 = 0
    private var lastSent: BlockLink?

    // Chain identity and runtime metadata (see DESIGN "Chain identity"): the latest identity per node, the
    // metadata of every spec version seen, and what the current alert-worker instance has been given.
    private var identities: [String: ChainIdentity] = [:]
    private var metadataBySpec: [UInt32: [UInt8]] = [:]
    private var forwardedIdentity: ChainIdentity?
    private var forwardedSpecs: Set<UInt32> = []
    private var forwardedHeights: [String: UInt64] = [:]

    private var metricsPublishedAt: Int64 = -1_000_000
    private let wallClock: () -> UInt64

    private let inconsistencyCounter = Counter(label: "chain_alerter_fork_inconsistencies_total")
    private let ignoredHeadersCounter = Counter(label: "chain_alerter_fork_isolated_headers_ignored_total")
    private let emittedCounter = Counter(label: "chain_alerter_fork_blocks_emitted_total")

    /// Which socket a payload goes out on.
    enum ForkWorkerSocket { case fetch, alertWorker }

    init(settings: ForkSettings, nodeURLs: [String], rosterSettings: NodeRoster.Settings, timings: ForkWorkerTimings, name: String, now: Int64,
         logger: Logger, wallClock: @escaping () -> UInt64 = ForkWorker.unixMilliseconds,
         send: @escaping (_ socket: ForkWorkerSocket, _ routingID: [UInt8]?, _ payload: [UInt8]) -> Void) {
        self.settings = settings
        self.timings = timings
        self.logger = logger
        self.send = send
        self.wallClock = wallClock
        self.writer = EnvelopeWriter(sender: name)
        self.roster = NodeRoster(urls: nodeURLs, settings: rosterSettings, now: now)
        self.startedAt = now
    }

    static func unixMilliseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1000 + UInt64(ts.tv_nsec) / 1_000_000
    }

    /// The roster as it stands (tests, status).
    var nodes: NodeRoster { roster }

    // MARK: inputs

    /// A frame from the PULL socket: BlockSeen, NodeStatus or CursorReport.
    func handleInbound(_ envelope: Envelope, now: Int64) {
        switch envelope.header.messageType {
        case .blockSeen:
            guard let seen = try? envelope.decode(BlockSeen.self) else { return }
            handleSeen(seen, now: now)
        case .nodeStatus:
            guard let status = try? envelope.decode(NodeStatus.self) else { return }
            publish(roster.update(status, routingID: nil, now: now), now: now)
            // Per-node stall detection in the alert-worker: only a height that moved is worth a store write there.
            if let height = status.bestHeight, forwardedHeights[status.node] != height {
                forwardedHeights[status.node] = height
                sendToAlertWorker(status)
            }
        case .cursorReport:
            guard let report = try? envelope.decode(CursorReport.self) else { return }
            handleCursor(report, now: now)
        case .chainIdentity:
            guard let identity = try? envelope.decode(ChainIdentity.self) else { return }
            handleIdentity(identity, now: now)
        default:
            logger.debug("unexpected message on blocks.sock", metadata: ["type": "\(envelope.header.messageType)"])
        }
        pump(now: now)
    }

    /// A frame from the ROUTER socket: a watcher's NodeStatus (hello) or BlockData.
    func handleFetchSocket(_ envelope: Envelope, routingID: [UInt8]?, now: Int64) {
        switch envelope.header.messageType {
        case .nodeStatus:
            guard let status = try? envelope.decode(NodeStatus.self) else { return }
            publish(roster.update(status, routingID: routingID, now: now), now: now)
        case .blockData:
            guard let data = try? envelope.decode(BlockData.self) else { return }
            if let (request, outcome) = fetches.answer(data, now: now) { handleAnswer(request, outcome) }
        default:
            break
        }
        pump(now: now)
    }

    func tick(now: Int64) {
        publish(roster.evaluate(now: now), now: now)
        if now - metricsPublishedAt >= 1000 {
            metricsPublishedAt = now
            publishNodeMetrics(now: now)
        }
        for request in fetches.expire(now: now) { handleAnswer(request, .failed(message: "timed out")) }
        if tracker == nil, now - startedAt >= timings.cursorWaitMilliseconds {
            logger.warning("no cursor report from the alert-worker; starting without one (the intake drops what it already checked)")
            start(cursor: nil)
        }
        // A lost CanonicalBlock: the cursor stopped short of what was sent.
        if let sent = lastSent, let tracker, emissions.isEmpty, cursorInstance != nil, cursor?.hash != sent.hash,
           now - cursorChangedAt >= timings.cursorStuckMilliseconds {
            logger.notice("alert-worker cursor stuck short of the last block sent; replaying",
                          metadata: ["cursor": "\(cursor.map { "\($0.height)" } ?? "none")", "sent": "\(sent)"])
            cursorChangedAt = now
            forgetForwarded(now: now)
            enqueueReplay(tracker.replay(after: cursor))
        }
        let newPrimary = roster.primary(now: now)
        if primary != newPrimary {
            if primary != nil {
                logger.notice("primary node changed", metadata: ["primary": "\(roster.entries[newPrimary].url)"])
                fetches.enqueue(.primaryBest, kind: .canonicalHash, hash: .zero)
            }
            primary = newPrimary
            forwardPrimaryIdentity(now: now)
        }
        pump(now: now)
    }

    /// A command from the supervisor (`ctl isolate` / `ctl restore`). Returns false for an unknown node.
    @discardableResult
    func handleCommand(_ command: SupervisorCommand, now: Int64) -> Bool {
        let (node, isolate): (String, Bool)
        switch command {
        case .isolateNode(let n): (node, isolate) = (n, true)
        case .restoreNode(let n): (node, isolate) = (n, false)
        case .shutdown, .workerRestarted: return true
        }
        let verb = isolate ? "isolate" : "restore"
        guard let i = roster.index(of: node) else {
            logger.warning("\(verb): unknown node", metadata: ["node": "\(node)"])
            return false
        }
        let done = isolate ? "isolated" : "restored"
        logger.notice("node \(done) by hand", metadata: ["node": "\(roster.entries[i].url)"])
        publish(isolate ? roster.isolate(i) : roster.restore(i), now: now, detail: "\(done) by hand (supervisor ctl \(verb))")
        tick(now: now)
        return true
    }

    /// Logs verdict changes and sends the node's verdict to the alert-worker.
    private func publish(_ changes: [NodeRoster.Change], now: Int64, detail: String = "") {
        guard !changes.isEmpty else { return }
        for change in changes {
            let url = roster.entries[change.node].url
            switch change {
            case .isolated(_, let reason):
                logger.warning("node isolated", metadata: ["node": "\(url)", "reason": "\(reason)",
                                                          "lag_blocks": "\(roster.entries[change.node].lagBlocks.map(String.init) ?? "-")",
                                                          "rpc_latency_ms": "\(roster.entries[change.node].status?.rpcLatencyMilliseconds.map(String.init) ?? "-")"])
            case .restored(_, let was):
                logger.notice("node restored", metadata: ["node": "\(url)", "was": "\(was)"])
            case .disconnected:
                logger.warning("node disconnected", metadata: ["node": "\(url)"])
            case .reconnected:
                logger.notice("node reconnected", metadata: ["node": "\(url)"])
            case .settled:
                break
            }
        }
        for i in Set(changes.map(\.node)).sorted() {
            sendToAlertWorker(roster.verdict(i, now: now, wallClockMilliseconds: wallClock(), detail: detail))
        }
        publishNodeMetrics(now: now)
    }

    /// One series per node, labelled with the node URL (the metrics contract with /metrics and /status).
    private func publishNodeMetrics(now: Int64) {
        let primary = roster.primary(now: now)
        for (i, e) in roster.entries.enumerated() {
            let labels = [("node", e.url)]
            if let height = e.height { Gauge(label: "chain_alerter_node_best_height", dimensions: labels).record(Double(height)) }
            Gauge(label: "chain_alerter_node_lag_blocks", dimensions: labels).record(Double(e.lagBlocks ?? 0))
            Gauge(label: "chain_alerter_node_isolated", dimensions: labels).record(e.isolation == .none ? 0 : 1)
            Gauge(label: "chain_alerter_node_connected", dimensions: labels).record(roster.isUp(i, now: now) ? 1 : 0)
            Gauge(label: "chain_alerter_node_primary", dimensions: labels).record(i == primary ? 1 : 0)
            if let latency = e.status?.rpcLatencyMilliseconds {
                Gauge(label: "chain_alerter_node_rpc_latency_seconds", dimensions: labels).record(Double(latency) / 1000)
            }
        }
    }

    // MARK: handling

    private func handleSeen(_ seen: BlockSeen, now: Int64) {
        guard let link = BlockLink(header: seen.header) else {
            logger.debug("undecodable header", metadata: ["node": "\(seen.node)"])
            return
        }
        let nodeIndex = roster.index(of: seen.node)
        if seen.subscription == .newHeads { roster.observeHead(node: seen.node, height: link.height) }
        // An isolated node's headers do not count toward best-block decisions while another node is healthy.
        if let nodeIndex, roster.ignoresHeaders(from: nodeIndex, now: now) {
            ignoredHeadersCounter.increment()
            return
        }
        if headers.count < 4 * settings.window + 1024 { headers[link.hash] = seen.header }
        let isBest = seen.subscription == .newHeads && roster.index(of: seen.node) == roster.primary(now: now)
        guard tracker != nil else {
            if buffered.count < 4 * settings.window { buffered.append((link, isBest)) }
            return
        }
        run(tracker!.seen(link, isBest: isBest))
    }

    private func handleIdentity(_ identity: ChainIdentity, now: Int64) {
        if let bytes = identity.metadata, metadataBySpec[identity.specVersion] == nil {
            if metadataBySpec.count >= 64, let oldest = metadataBySpec.keys.min() { metadataBySpec[oldest] = nil }
            metadataBySpec[identity.specVersion] = bytes
        }
        var stripped = identity
        stripped.metadata = nil
        identities[identity.node] = stripped
        forwardPrimaryIdentity(now: now)
    }

    /// Gives the alert-worker the primary's chain identity (any node's until the primary has reported one)
    /// when it differs from what this alert-worker instance has; the metadata goes along once per spec version.
    private func forwardPrimaryIdentity(now: Int64) {
        let primaryURL = roster.entries[roster.primary(now: now)].url
        guard var identity = identities[primaryURL] ?? (forwardedIdentity == nil ? identities.values.first : nil) else { return }
        if let known = forwardedIdentity, known.genesisHash == identity.genesisHash, known.chainName == identity.chainName,
           known.ss58Format == identity.ss58Format, known.tokenDecimals == identity.tokenDecimals,
           known.tokenSymbol == identity.tokenSymbol, known.specVersion == identity.specVersion {
            return
        }
        forwardedIdentity = identity
        if !forwardedSpecs.contains(identity.specVersion), let bytes = metadataBySpec[identity.specVersion] {
            identity.metadata = bytes
            forwardedSpecs.insert(identity.specVersion)
        }
        logger.info("chain identity forwarded", metadata: ["node": "\(identity.node)", "chain": "\(identity.chainName)",
                                                            "spec_version": "\(identity.specVersion)"])
        sendToAlertWorker(identity)
    }

    /// A new alert-worker instance, or a replay that may reach blocks it refused: it is given the identity and
    /// the metadata again.
    private func forgetForwarded(now: Int64) {
        forwardedIdentity = nil
        forwardedSpecs = []
        forwardPrimaryIdentity(now: now)
    }

    private func handleCursor(_ report: CursorReport, now: Int64) {
        let reported = report.checkedHash.flatMap(BlockHash.init(bytes:)).map { ($0, report.checkedHeight ?? 0) }
        if reported?.0 != cursor?.hash { cursorChangedAt = now }
        cursor = reported.map { (hash: $0.0, height: $0.1) }
        if cursorInstance != report.instanceID {
            let restarted = cursorInstance != nil
            cursorInstance = report.instanceID
            cursorChangedAt = now
            forgetForwarded(now: now)
            // A new alert-worker instance gets every settled verdict again (it alerts only on a difference).
            for i in roster.entries.indices where roster.entries[i].published {
                sendToAlertWorker(roster.verdict(i, now: now, wallClockMilliseconds: wallClock()))
            }
            if tracker == nil {
                start(cursor: cursor)
            } else if restarted, let tracker {
                logger.notice("alert-worker restarted; replaying after its cursor",
                              metadata: ["cursor": "\(cursor.map { "\($0.height)" } ?? "none")"])
                enqueueReplay(tracker.replay(after: cursor))
            }
        }
    }

    private func start(cursor: (hash: BlockHash, height: UInt64)?) {
        tracker = ForkTracker(settings: settings, cursor: cursor)
        // Do not wait for the next new head (the chain may be stalled): ask the primary for its best block.
        fetches.enqueue(.primaryBest, kind: .canonicalHash, hash: .zero)
        let pending = buffered
        buffered = []
        for (link, isBest) in pending { run(tracker!.seen(link, isBest: isBest)) }
    }

    private func handleAnswer(_ request: FetchClient.Request, _ outcome: BlockData.Outcome) {
        let blocks: [FetchedBlock]
        if case .found(let found) = outcome { blocks = found } else { blocks = [] }
        switch request.purpose {
        case .ancestors(let start):
            if blocks.isEmpty {
                logger.warning("ancestors not available from any node", metadata: ["start": "\(start)"])
                run(tracker?.ancestorsFailed(start: start) ?? [])
                return
            }
            var links: [BlockLink] = []
            for block in blocks {
                guard let header = block.header, let link = BlockLink(header: header) else { continue }
                headers[link.hash] = header
                links.append(link)
            }
            run(tracker?.ancestorsArrived(start: start, headers: links) ?? [])
        case .canonical(let link):
            let canonical = blocks.first.flatMap { BlockHash(bytes: $0.blockHash) }
            run(tracker?.canonicalAnswer(for: link, canonical: canonical) ?? [])
        case .primaryBest:
            guard let header = blocks.first?.header, let link = BlockLink(header: header) else { return }
            headers[link.hash] = header
            run(tracker?.seen(link, isBest: true) ?? [])
        case .blockPart(let hash):
            guard let index = emissions.firstIndex(where: { $0.link.hash == hash }), let data = blocks.first else { return }
            var emission = emissions[index]
            if let header = data.header { emission.block.header = header }
            if let extrinsics = data.extrinsics { emission.block.extrinsics = extrinsics }
            if let events = data.events { emission.block.events = events }
            if let spec = data.specVersion { emission.block.specVersion = spec }
            if let bytes = data.metadata, let spec = data.specVersion ?? emission.block.specVersion, metadataBySpec[spec] == nil {
                metadataBySpec[spec] = bytes
            }
            emission.missing.remove(request.kind.rawValue)
            emissions[index] = emission
            flushEmissions()
        }
    }

    /// Carries out the tracker's actions.
    private func run(_ actions: [TrackerAction]) {
        for action in actions {
            switch action {
            case .fetchAncestors(let start, let count):
                fetches.enqueue(.ancestors(start: start), kind: .ancestors, hash: start, count: count)
            case .checkCanonical(let link):
                fetches.enqueue(.canonical(link), kind: .canonicalHash, hash: link.hash, height: link.height)
            case .emit(let link, let mode, let startsChain):
                enqueueEmission(link, mode: mode, startsChain: startsChain)
            case .reorg(let reorg, let alert):
                logger.log(level: alert ? .warning : .info, "reorg", metadata: [
                    "old": "\(reorg.oldBest)", "new": "\(reorg.newBest)", "old_depth": "\(reorg.oldDepth)",
                    "new_depth": "\(reorg.newDepth)", "backwards_depth": "\(reorg.backwardsDepth)"])
                if alert {
                    sendToAlertWorker(ForkEvent.reorg(oldBest: reorg.oldBest.ref, newBest: reorg.newBest.ref,
                                                      commonAncestor: reorg.ancestorRef.ref, backwardsDepth: reorg.backwardsDepth))
                }
            case .sideFork(let fork, let alert):
                if fork.depth >= 4 || alert {
                    logger.log(level: fork.depth >= 5 ? .warning : .info, "side fork extended",
                               metadata: ["tip": "\(fork.tip)", "depth": "\(fork.depth)"])
                }
                if alert {
                    sendToAlertWorker(ForkEvent.sideForkExtended(tip: fork.tip.ref, forkPoint: fork.forkPoint.ref, depth: fork.depth))
                }
            case .best:
                break
            case .inconsistency(let error):
                inconsistencyCounter.increment()
                logger.error("fork tree inconsistency; resynchronised", metadata: ["error": "\(error)"])
            }
        }
        if headers.count > 4 * settings.window + 1024, let tracker {
            headers = headers.filter { tracker.tree.contains($0.key) || queuedHashes.contains($0.key) }
        }
    }

    private func enqueueReplay(_ links: [BlockLink]) {
        for (index, link) in links.enumerated() {
            enqueueEmission(link, mode: .replay, startsChain: index == 0 && link.parent != cursor?.hash)
        }
    }

    private func enqueueEmission(_ link: BlockLink, mode: CanonicalMode, startsChain: Bool) {
        guard queuedHashes.insert(link.hash).inserted else { return }
        var missing: Set<UInt8> = [FetchKind.body.rawValue, FetchKind.events.rawValue, FetchKind.runtimeVersion.rawValue]
        let header = headers[link.hash]
        if header == nil { missing.insert(FetchKind.header.rawValue) }
        for kind in [FetchKind.header, .body, .events, .runtimeVersion] where missing.contains(kind.rawValue) {
            fetches.enqueue(.blockPart(link.hash), kind: kind, hash: link.hash)
        }
        emissions.append(Emission(link: link, mode: mode, startsChain: startsChain,
                                  block: FetchedBlock(blockHash: link.hash.bytes, header: header), missing: missing))
    }

    private func flushEmissions() {
        var sent = 0
        while sent < emissions.count, emissions[sent].missing.isEmpty {
            var e = emissions[sent]
            // The first block of a spec version this alert-worker instance has no metadata for carries it.
            if let spec = e.block.specVersion, !forwardedSpecs.contains(spec) {
                guard let bytes = metadataBySpec[spec] else {
                    emissions[sent].missing.insert(FetchKind.metadata.rawValue)
                    fetches.enqueue(.blockPart(e.link.hash), kind: .metadata, hash: e.link.hash)
                    break
                }
                e.block.metadata = bytes
                forwardedSpecs.insert(spec)
            }
            sendToAlertWorker(CanonicalBlock(mode: e.mode, height: e.link.height, parentHash: e.link.parent.bytes,
                                             block: e.block, startsChain: e.startsChain))
            lastSent = e.link
            queuedHashes.remove(e.link.hash)
            emittedCounter.increment()
            sent += 1
        }
        if sent > 0 { emissions.removeFirst(sent) }
    }

    private func sendToAlertWorker<M: BusMessage>(_ message: M) {
        guard let bytes = try? writer.seal(message) else { return }
        send(.alertWorker, nil, bytes)
    }

    private func pump(now: Int64) {
        for (routingID, request) in fetches.dispatch(now: now, targets: roster.fetchTargets(now: now)) {
            guard let bytes = try? writer.seal(request) else { continue }
            send(.fetch, routingID, bytes)
        }
    }
}
