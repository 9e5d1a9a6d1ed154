import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import WorkerRuntime
import Wire
import SubstrateRuntime
import SubstratePrimitives

/// Everything a node-watcher needs to know, resolved from options and environment.
struct WatcherSettings: Sendable {
    /// ws:// or wss:// URL of the node.
    var nodeURL: String
    /// ZeroMQ routing id on the fetch DEALER and the envelope sender (e.g. `node-watcher-0`).
    var workerName: String
    /// Where `blocks.sock` and `fetch.sock` live.
    var stateDirectory: String
    var limits = ConnectionLimits()
    /// Fetch requests served at once; the rest wait in the DEALER's inbox.
    var fetchConcurrency = 64
    var backoffInitial: Duration = .milliseconds(10)
    var backoffMaximum: Duration = .seconds(10)
    var statusInterval: Duration = .seconds(1)
    /// Most headers fetched to fill a gap after a reconnect (the fork-worker fills larger gaps with `ancestors`).
    var maxGapFill = 4096
    /// Most headers one `ancestors` request returns.
    var maxAncestors: UInt32 = 1024
    /// PEM trust roots for wss:// (self-signed nodes); nil = the system store.
    var trustRootsFile: String?

    var blocksEndpoint: String { BusEndpoints.blocks(stateDirectory: stateDirectory) }
    var fetchEndpoint: String { BusEndpoints.fetch(stateDirectory: stateDirectory) }
}

/// Follows one node: subscribes to new, all and finalized heads and to the runtime version; pushes a
/// `BlockSeen` for every header and a `NodeStatus` every second; answers the fork-worker's
/// `FetchRequest`s; reconnects with backoff and fills the gap it missed while away.
final class NodeWatcher: Sendable {
    private struct State {
        var connection: RPCConnection?
        var lastHeight: UInt64?
        var lastHash: [UInt8]?
        var bestHeight: UInt64?
        var latencyMilliseconds: UInt32?
        /// When the latency probe in flight was sent (a probe that does not come back counts as slow meanwhile).
        var probeStartedAt: ContinuousClock.Instant?
        var detail = "starting"
        var specVersion: UInt32?
        var chain: String?
        var genesis: [UInt8]?
        var properties: ChainProperties?
    }

    let settings: WatcherSettings
    let metrics: WatcherMetrics
    let logger: Logger
    let group: MultiThreadedEventLoopGroup
    let metadata: MetadataCache
    private let state = Mutex(State())
    private let blockWriter: Mutex<EnvelopeWriter>
    private let fetchWriter: Mutex<EnvelopeWriter>
    private let bus: BusLoop
    private let pushSocket: BusSocketID
    private let dealerSocket: BusSocketID
    static let eventsKey = StorageKey.plain(pallet: "System", item: "Events")

    init(settings: WatcherSettings, metrics: WatcherMetrics? = nil, logger: Logger) throws(BusError) {
        self.settings = settings
        self.metrics = metrics ?? WatcherMetrics(node: settings.nodeURL)
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        metadata = MetadataCache()
        blockWriter = Mutex(EnvelopeWriter(sender: settings.workerName))
        fetchWriter = Mutex(EnvelopeWriter(sender: settings.workerName))
        var dealerOptions = SocketOptions()
        dealerOptions.routingID = Array(settings.workerName.utf8)
        bus = try BusLoop(name: "watcher", sockets: [
            SocketSpec(name: "blocks-out", kind: .push, attachments: [.connect(settings.blocksEndpoint)], outboundCapacity: 4096),
            SocketSpec(name: "fetch", kind: .dealer, attachments: [.connect(settings.fetchEndpoint)], options: dealerOptions,
                       outboundCapacity: 4096, inboxCapacity: 4096),
        ], logger: logger)
        pushSocket = bus.sockets[0]
        dealerSocket = bus.sockets[1]
    }

    /// The last header height seen on the new-heads subscription (kept across reconnects).
    var lastHeight: UInt64? { state.withLock { $0.lastHeight } }
    var isConnected: Bool { state.withLock { $0.connection != nil } }
    var chainName: String? { state.withLock { $0.chain } }

    /// Runs until `shutdown` is requested.
    func run(shutdown: ShutdownSignal) async {
        sendStatus(onDealer: true)
        let fetcher = Task { await serveFetches() }
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: settings.statusInterval)
                sendStatus(onDealer: false)
            }
        }
        // RPC latency: a cheap call (`system_chain`) timed every status interval, reported in NodeStatus.
        let prober = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: settings.statusInterval)
                await probeLatency()
            }
        }
        let stopper = Task {
            _ = await shutdown.wait()
            state.withLock { $0.connection }?.close()
        }
        var backoff = Backoff(initial: settings.backoffInitial, maximum: settings.backoffMaximum, jitter: 0.5)
        var attempts = 0
        while !shutdown.isRequested {
            if attempts > 0 {
                let delay = backoff.next(random: Double.random(in: 0 ... 1))
                logger.info("reconnecting", metadata: ["node": "\(settings.nodeURL)", "in": "\(delay)"])
                try? await Task.sleep(for: delay)
                if shutdown.isRequested { break }
                metrics.reconnect()
            }
            attempts += 1
            let connection: RPCConnection
            do {
                connection = try await RPCConnection.connect(url: settings.nodeURL, limits: settings.limits, trustRootsFile: settings.trustRootsFile,
                                                             group: group, metrics: metrics, logger: logger)
            } catch {
                metrics.error(error.reason)
                setDisconnected(error.description)
                logger.warning("cannot connect", metadata: ["node": "\(settings.nodeURL)", "error": "\(error)"])
                continue
            }
            if shutdown.isRequested {
                connection.close()
                break
            }
            do {
                try await start(connection)
                backoff.reset()
            } catch {
                logger.warning("node setup failed", metadata: ["node": "\(settings.nodeURL)", "error": "\(error)"])
                connection.close()
            }
            for await notification in connection.notifications {
                await handle(notification, on: connection)
            }
            if !shutdown.isRequested {
                metrics.error(.connectionLost)
                logger.warning("node connection lost", metadata: ["node": "\(settings.nodeURL)", "last_height": "\(lastHeight.map(String.init) ?? "none")"])
            }
            setDisconnected("connection lost; last height seen \(lastHeight.map(String.init) ?? "none")")
        }
        stopper.cancel()
        prober.cancel()
        ticker.cancel()
        fetcher.cancel()
        setDisconnected("stopped")
        // Give the bus a moment to flush the last status.
        try? await Task.sleep(for: .milliseconds(50))
        bus.close()
        await bus.closed()
        try? await group.shutdownGracefully()
    }

    /// Network detection, runtime version and metadata, then the four subscriptions.
    private func start(_ connection: RPCConnection) async throws(WatcherError) {
        let started = ContinuousClock.now
        let chain = try await connection.call("system_chain")
        let latency = ContinuousClock.now - started
        let properties = try await connection.call("system_properties")
        let genesis = try await connection.call("chain_getBlockHash", [.integer(0)])
        let version = try await connection.call("state_getRuntimeVersion")
        guard case .string(let chainName) = chain, case .string(let genesisHex) = genesis, let genesisHash = Hex.decode(genesisHex),
              let spec = Self.specVersion(version) else {
            throw .invalidResponse(method: "network detection", detail: "system_chain/chain_getBlockHash(0)/state_getRuntimeVersion")
        }
        let known = state.withLock { $0.genesis }
        if let known, known != genesisHash {
            logger.error("the node's genesis changed: it is now another network", metadata: ["was": "\(Hex.encode(known))", "now": "\(genesisHex)"])
        }
        let runtimeMetadata = try await metadata.metadata(specVersion: spec, fetch: { () async throws(WatcherError) -> [UInt8] in
            try await self.fetchMetadata(connection, specVersion: spec)
        })
        let chainProperties = ChainProperties(properties)
        state.withLock { state in
            state.chain = chainName
            state.genesis = genesisHash
            state.properties = chainProperties
            state.specVersion = spec
            state.latencyMilliseconds = Self.milliseconds(latency)
            state.probeStartedAt = nil
        }
        logger.info("connected", metadata: ["node": "\(settings.nodeURL)", "chain": "\(chainName)", "genesis": "\(genesisHex)",
                                             "spec_version": "\(spec)", "properties": "\(properties.rendered())"])
        // Before any header of this connection: the fork-worker forwards it so the alert-worker can decode.
        push(identity(chain: chainName, genesis: genesisHash, properties: chainProperties, specVersion: spec, metadata: runtimeMetadata))
        _ = try await connection.call("chain_subscribeNewHeads", subscribing: .heads(.newHeads))
        _ = try await connection.call("chain_subscribeAllHeads", subscribing: .heads(.allHeads))
        _ = try await connection.call("chain_subscribeFinalizedHeads", subscribing: .heads(.finalizedHeads))
        _ = try await connection.call("state_subscribeRuntimeVersion", subscribing: .runtimeVersion)
        let last = state.withLock { state in
            state.connection = connection
            state.detail = state.lastHeight.map { "connected; last height seen \($0)" } ?? "connected"
            return state.lastHeight
        }
        _ = last
        metrics.connected(true)
        sendStatus(onDealer: true)
    }

    /// Times one `system_chain` round trip on the current connection.
    private func probeLatency() async {
        guard let connection = state.withLock({ $0.connection }) else { return }
        let started = ContinuousClock.now
        state.withLock { $0.probeStartedAt = started }
        do throws(WatcherError) {
            _ = try await connection.call("system_chain")
            let elapsed = ContinuousClock.now - started
            state.withLock { state in
                state.latencyMilliseconds = Self.milliseconds(elapsed)
                state.probeStartedAt = nil
            }
        } catch {
            // A failed probe keeps counting as slow until the next one answers (the connection is likely going).
            logger.debug("latency probe failed", metadata: ["error": "\(error)"])
        }
    }

    static func milliseconds(_ d: Duration) -> UInt32 {
        UInt32(clamping: d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000)
    }

    private func identity(chain: String, genesis: [UInt8], properties: ChainProperties, specVersion: UInt32,
                          metadata: [UInt8]) -> ChainIdentity {
        ChainIdentity(node: settings.nodeURL, genesisHash: genesis, chainName: chain, ss58Format: properties.ss58Format,
                      tokenDecimals: properties.tokenDecimals, tokenSymbol: properties.tokenSymbol, specVersion: specVersion,
                      metadata: metadata)
    }

    private func setDisconnected(_ detail: String) {
        let changed = state.withLock { state in
            let was = state.connection != nil
            state.connection = nil
            state.probeStartedAt = nil
            state.detail = detail
            return was
        }
        metrics.connected(false)
        if changed { sendStatus(onDealer: true) }
    }

    private func fetchMetadata(_ connection: RPCConnection, at hash: [UInt8]?) async throws(WatcherError) -> [UInt8] {
        let result = try await connection.call("state_getMetadata", hash.map { [.string(Hex.encode($0))] } ?? [])
        guard case .string(let hex) = result, let bytes = Hex.decode(hex) else {
            throw .invalidResponse(method: "state_getMetadata", detail: "not a hex string")
        }
        metrics.metadataFetched()
        return bytes
    }

    /// Metadata of runtime `specVersion`, fetched at the best block after checking that the best block runs it
    /// (a runtime-version notification can come before the best block moves on).
    private func fetchMetadata(_ connection: RPCConnection, specVersion spec: UInt32) async throws(WatcherError) -> [UInt8] {
        for _ in 0 ..< 50 {
            let best = try await connection.call("chain_getBlockHash")
            guard case .string(let hex) = best, let hash = Hex.decode(hex) else {
                throw .invalidResponse(method: "chain_getBlockHash", detail: "not a hash")
            }
            if try await specVersion(at: best, on: connection) == spec { return try await fetchMetadata(connection, at: hash) }
            try? await Task.sleep(for: .milliseconds(100))
        }
        throw .invalidResponse(method: "state_getRuntimeVersion", detail: "the best block never ran spec version \(spec)")
    }

    static func specVersion(_ version: JSONValue) -> UInt32? {
        guard case .integer(let spec)? = version["specVersion"], spec >= 0, spec <= Int64(UInt32.max) else { return nil }
        return UInt32(spec)
    }

    // MARK: notifications

    private func handle(_ notification: NodeNotification, on connection: RPCConnection) async {
        switch notification {
        case .runtimeVersion(let version):
            guard let spec = Self.specVersion(version) else {
                metrics.error(.invalidResponse)
                return
            }
            let changed = state.withLock { state in
                defer { state.specVersion = spec }
                return state.specVersion != spec
            }
            if changed {
                logger.info("runtime upgraded", metadata: ["node": "\(settings.nodeURL)", "spec_version": "\(spec)"])
            }
            do {
                let bytes = try await metadata.metadata(specVersion: spec, fetch: { () async throws(WatcherError) -> [UInt8] in
                    try await self.fetchMetadata(connection, specVersion: spec)
                })
                let known = state.withLock { ($0.chain, $0.genesis, $0.properties) }
                if changed, let chain = known.0, let genesis = known.1 {
                    push(identity(chain: chain, genesis: genesis, properties: known.2 ?? ChainProperties(.null), specVersion: spec, metadata: bytes))
                }
            } catch {
                logger.warning("metadata fetch failed", metadata: ["spec_version": "\(spec)", "error": "\(error)"])
            }
        case .header(let kind, let json):
            let received = Self.nowMilliseconds()
            let header: [UInt8]
            let decoded: BlockHeader
            do throws(WatcherError) {
                header = try HeaderJSON.encode(json)
                do {
                    decoded = try BlockHeader(scale: header)
                } catch {
                    throw WatcherError.invalidHeader("\(error)")
                }
            } catch {
                metrics.error(error.reason)
                logger.warning("header dropped", metadata: ["subscription": "\(kind)", "error": "\(error)"])
                return
            }
            if kind == .newHeads {
                await fillGap(before: decoded, on: connection)
                state.withLock { state in
                    state.lastHeight = decoded.number
                    state.lastHash = decoded.hash
                    state.bestHeight = decoded.number
                }
                metrics.bestHeight(decoded.number)
            }
            push(BlockSeen(node: settings.nodeURL, subscription: kind, header: header, receivedAtMilliseconds: received))
            metrics.header(kind.label)
        }
    }

    /// After a reconnect the first new head may be several blocks past the last one seen: fetch the
    /// headers in between (walking parent hashes) and report them, oldest first, so that none is missed.
    private func fillGap(before header: BlockHeader, on connection: RPCConnection) async {
        guard let last = lastHeight, header.number > last + 1 else { return }
        let missing = Int(min(header.number - last - 1, UInt64(settings.maxGapFill)))
        var headers: [[UInt8]] = []
        var parent = header.parentHash
        for _ in 0 ..< missing {
            do throws(WatcherError) {
                let json = try await connection.call("chain_getHeader", [.string(Hex.encode(parent))])
                if json == .null { break }
                let bytes = try HeaderJSON.encode(json)
                guard let decoded = try? BlockHeader(scale: bytes) else { throw .invalidHeader("gap header") }
                headers.append(bytes)
                parent = decoded.parentHash
                if decoded.number <= last + 1 { break }
            } catch {
                metrics.error(error.reason)
                logger.warning("gap fill stopped", metadata: ["error": "\(error)"])
                break
            }
        }
        logger.info("filled a gap after reconnect", metadata: ["from": "\(last + 1)", "to": "\(header.number - 1)", "headers": "\(headers.count)"])
        let received = Self.nowMilliseconds()
        for bytes in headers.reversed() {
            push(BlockSeen(node: settings.nodeURL, subscription: .newHeads, header: bytes, receivedAtMilliseconds: received))
            metrics.header("gap_fill")
        }
    }

    // MARK: bus

    private func push<M: BusMessage>(_ message: M) {
        do {
            let frame = try blockWriter.withLock { writer throws(EnvelopeError) in try writer.seal(message) }
            try bus.send(frame, on: pushSocket)
        } catch {
            metrics.dropped(socket: "blocks")
        }
    }

    private func reply<M: BusMessage>(_ message: M) {
        do {
            let frame = try fetchWriter.withLock { writer throws(EnvelopeError) in try writer.seal(message) }
            try bus.send(frame, on: dealerSocket)
        } catch {
            metrics.dropped(socket: "fetch")
        }
    }

    func status() -> NodeStatus {
        let now = ContinuousClock.now
        return state.withLock { state in
            var latency = state.latencyMilliseconds
            if state.connection != nil, let started = state.probeStartedAt {
                latency = max(latency ?? 0, Self.milliseconds(now - started))
            }
            return NodeStatus(node: settings.nodeURL, connected: state.connection != nil, bestHeight: state.bestHeight ?? state.lastHeight,
                              rpcLatencyMilliseconds: latency, detail: state.detail, observedAtMilliseconds: Self.nowMilliseconds())
        }
    }

    private func sendStatus(onDealer: Bool) {
        let status = status()
        push(status)
        if onDealer { reply(status) }
    }

    static func nowMilliseconds() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }

    // MARK: fetches

    private func serveFetches() async {
        let slots = Slots(settings.fetchConcurrency)
        var reader = EnvelopeReader(socket: "fetch")
        await withDiscardingTaskGroup { group in
            for await frame in bus.inbox(dealerSocket) {
                guard let request = reader.open(frame.payload, as: FetchRequest.self) else {
                    metrics.error(.badFetchRequest)
                    continue
                }
                await slots.acquire()
                group.addTask {
                    let outcome = await self.answer(request)
                    self.reply(BlockData(requestID: request.requestID, outcome: outcome))
                    await slots.release()
                }
            }
        }
    }

    /// What the node says about `request`.
    func answer(_ request: FetchRequest) async -> BlockData.Outcome {
        guard let connection = state.withLock({ $0.connection }) else { return .failed(message: "node \(settings.nodeURL) is not connected") }
        if request.kind != .canonicalHash, request.blockHash.count != 32 {
            metrics.error(.badFetchRequest)
            return .failed(message: "block hash must be 32 bytes, got \(request.blockHash.count)")
        }
        let hashParam = JSONValue.string(Hex.encode(request.blockHash))
        do throws(WatcherError) {
            switch request.kind {
            case .header:
                guard let header = try await header(hashParam, on: connection) else { return .notFound }
                return .found([FetchedBlock(blockHash: request.blockHash, header: header)])
            case .body:
                let block = try await connection.call("chain_getBlock", [hashParam])
                if block == .null { return .notFound }
                guard let inner = block["block"], let headerJSON = inner["header"], case .array(let items)? = inner["extrinsics"] else {
                    throw .invalidResponse(method: "chain_getBlock", detail: "no block.header/block.extrinsics")
                }
                var extrinsics: [[UInt8]] = []
                extrinsics.reserveCapacity(items.count)
                for item in items {
                    guard case .string(let hex) = item, let bytes = Hex.decode(hex) else {
                        throw .invalidResponse(method: "chain_getBlock", detail: "an extrinsic is not hex")
                    }
                    extrinsics.append(bytes)
                }
                return .found([FetchedBlock(blockHash: request.blockHash, header: try HeaderJSON.encode(headerJSON), extrinsics: extrinsics)])
            case .events:
                let value: JSONValue
                do {
                    value = try await connection.call("state_getStorage", [.string(Hex.encode(Self.eventsKey)), hashParam])
                } catch {
                    if case .rpc = error, try await header(hashParam, on: connection) == nil { return .notFound }
                    throw error
                }
                switch value {
                case .null: return .found([FetchedBlock(blockHash: request.blockHash, events: [0])])
                case .string(let hex):
                    guard let bytes = Hex.decode(hex) else { throw .invalidResponse(method: "state_getStorage", detail: "not hex") }
                    return .found([FetchedBlock(blockHash: request.blockHash, events: bytes)])
                default: throw .invalidResponse(method: "state_getStorage", detail: "not a string")
                }
            case .runtimeVersion:
                guard let spec = try await specVersion(at: hashParam, on: connection) else { return .notFound }
                return .found([FetchedBlock(blockHash: request.blockHash, specVersion: spec)])
            case .metadata:
                guard let spec = try await specVersion(at: hashParam, on: connection) else { return .notFound }
                let hash = request.blockHash
                let bytes = try await metadata.metadata(specVersion: spec, fetch: { () async throws(WatcherError) -> [UInt8] in
                    try await self.fetchMetadata(connection, at: hash)
                })
                return .found([FetchedBlock(blockHash: request.blockHash, specVersion: spec, metadata: bytes)])
            case .ancestors:
                var blocks: [FetchedBlock] = []
                var hash = request.blockHash
                let count = min(max(request.count, 1), settings.maxAncestors)
                for _ in 0 ..< count {
                    guard let header = try await header(.string(Hex.encode(hash)), on: connection) else { break }
                    blocks.append(FetchedBlock(blockHash: hash, header: header))
                    guard let decoded = try? BlockHeader(scale: header), decoded.number > 0 else { break }
                    hash = decoded.parentHash
                }
                return blocks.isEmpty ? .notFound : .found(blocks)
            case .canonicalHash:
                let params: [JSONValue] = request.height.map { [.integer(Int64(clamping: $0))] } ?? []
                let result = try await connection.call("chain_getBlockHash", params)
                if result == .null { return .notFound }
                guard case .string(let hex) = result, let hash = Hex.decode(hex), hash.count == 32 else {
                    throw .invalidResponse(method: "chain_getBlockHash", detail: "not a 32-byte hash")
                }
                guard let header = try await header(result, on: connection) else { return .notFound }
                return .found([FetchedBlock(blockHash: hash, header: header)])
            }
        } catch {
            return .failed(message: error.description)
        }
    }

    private func header(_ hash: JSONValue, on connection: RPCConnection) async throws(WatcherError) -> [UInt8]? {
        let json = try await connection.call("chain_getHeader", [hash])
        if json == .null { return nil }
        return try HeaderJSON.encode(json)
    }

    private func specVersion(at hash: JSONValue, on connection: RPCConnection) async throws(WatcherError) -> UInt32? {
        let version: JSONValue
        do {
            version = try await connection.call("state_getRuntimeVersion", [hash])
        } catch {
            if case .rpc = error, try await header(hash, on: connection) == nil { return nil }
            throw error
        }
        guard let spec = Self.specVersion(version) else { throw .invalidResponse(method: "state_getRuntimeVersion", detail: "no specVersion") }
        return spec
    }
}

extension SubscriptionKind {
    /// Metric label value.
    var label: String {
        switch self {
        case .newHeads: "new"
        case .allHeads: "all"
        case .finalizedHeads: "finalized"
        }
    }
}

/// Runtime metadata by spec version: each version is fetched once (concurrent askers share the fetch)
/// and kept; metadata is never fetched per block.
final class MetadataCache: Sendable {
    private let entries = Mutex<[UInt32: Task<Result<[UInt8], WatcherError>, Never>]>([:])

    var specVersions: [UInt32] { entries.withLock { Array($0.keys).sorted() } }

    func metadata(specVersion: UInt32, fetch: @escaping @Sendable () async throws(WatcherError) -> [UInt8]) async throws(WatcherError) -> [UInt8] {
        let task = entries.withLock { entries in
            if let task = entries[specVersion] { return task }
            let task = Task { () -> Result<[UInt8], WatcherError> in
                do throws(WatcherError) { return .success(try await fetch()) } catch { return .failure(error) }
            }
            entries[specVersion] = task
            return task
        }
        switch await task.value {
        case .success(let bytes): return bytes
        case .failure(let error):
            // Forget failures so the next asker tries again.
            entries.withLock { _ = $0.removeValue(forKey: specVersion) }
            throw error
        }
    }
}

/// A counting semaphore for bounded concurrency.
actor Slots {
    private var free: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) { free = count }

    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            free += 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}

/// Converts the node's JSON header (`parentHash`, `number`, roots, `digest.logs`) to its SCALE bytes.
enum HeaderJSON {
    static func encode(_ json: JSONValue) throws(WatcherError) -> [UInt8] {
        guard case .string(let parentHex)? = json["parentHash"], let parent = Hex.decode(parentHex), parent.count == 32,
              case .string(let numberHex)? = json["number"], numberHex.hasPrefix("0x"), let number = UInt64(numberHex.dropFirst(2), radix: 16),
              case .string(let stateHex)? = json["stateRoot"], let stateRoot = Hex.decode(stateHex), stateRoot.count == 32,
              case .string(let extrinsicsHex)? = json["extrinsicsRoot"], let extrinsicsRoot = Hex.decode(extrinsicsHex), extrinsicsRoot.count == 32,
              case .array(let logs)? = json["digest"]?["logs"] else {
            throw .invalidHeader("missing or malformed parentHash/number/stateRoot/extrinsicsRoot/digest.logs")
        }
        var w = ScaleWriter(capacity: 160)
        w.writeBytes(parent)
        w.writeCompact(number)
        w.writeBytes(stateRoot)
        w.writeBytes(extrinsicsRoot)
        w.writeCompact(UInt64(logs.count))
        for log in logs {
            guard case .string(let hex) = log, let bytes = Hex.decode(hex) else { throw .invalidHeader("a digest log is not hex") }
            w.writeBytes(bytes)
        }
        return w.bytes
    }
}


/// The parts of `system_properties` that identify a network. Nodes report `tokenDecimals`/`tokenSymbol` as a
/// value or as an array (multi-token chains); the first entry counts.
struct ChainProperties: Sendable, Equatable {
    var ss58Format: UInt16?
    var tokenDecimals: UInt8?
    var tokenSymbol: String?

    init(_ json: JSONValue) {
        func first(_ value: JSONValue?) -> JSONValue? {
            if case .array(let items)? = value { return items.first }
            return value
        }
        if case .integer(let v)? = json["ss58Format"], let f = UInt16(exactly: v) { ss58Format = f }
        if case .integer(let v)? = first(json["tokenDecimals"]), let d = UInt8(exactly: v) { tokenDecimals = d }
        if case .string(let s)? = first(json["tokenSymbol"]) { tokenSymbol = s }
    }
}
