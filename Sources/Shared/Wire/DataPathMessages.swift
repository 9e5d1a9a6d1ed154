import SubstratePrimitives
// The data-path messages (SCALE). Hashes and headers are raw bytes exactly as the node sent them;
// decoding them is the receiving worker's business, so the bus never depends on a runtime's types.

/// Which node subscription delivered a header.
public enum SubscriptionKind: UInt8, Sendable, CaseIterable {
    case newHeads = 0
    case allHeads = 1
    case finalizedHeads = 2
}

/// node-watcher → fork-worker (PUSH): a header arrived on one of the node's subscriptions.
public struct BlockSeen: ScaleBusMessage, Equatable {
    public static var messageType: MessageType { .blockSeen }

    /// The watcher's node name from configuration.
    public var node: String
    public var subscription: SubscriptionKind
    /// The SCALE-encoded header as received.
    public var header: [UInt8]
    /// Wall-clock receive time at the watcher, Unix milliseconds.
    public var receivedAtMilliseconds: UInt64

    public init(node: String, subscription: SubscriptionKind, header: [UInt8], receivedAtMilliseconds: UInt64) {
        self.node = node
        self.subscription = subscription
        self.header = header
        self.receivedAtMilliseconds = receivedAtMilliseconds
    }

    public func encode(scale writer: inout ScaleWriter) {
        writer.writeString(node)
        writer.writeU8(subscription.rawValue)
        writer.writeByteVector(header)
        writer.writeU64(receivedAtMilliseconds)
    }

    public init(scale reader: inout ScaleReader) throws(ScaleError) {
        node = try readText(&reader, "BlockSeen.node")
        subscription = try readEnum(&reader, "BlockSeen.subscription")
        header = try reader.readByteVector("BlockSeen.header")
        receivedAtMilliseconds = try reader.readU64("BlockSeen.receivedAt")
    }
}

/// What a `FetchRequest` asks the node for.
public enum FetchKind: UInt8, Sendable, CaseIterable {
    case header = 0
    case body = 1
    case events = 2
    case metadata = 3
    case runtimeVersion = 4
    /// `count` headers walking back from the block (gap filling).
    case ancestors = 5
    /// `chain_getBlockHash(height)`: the node's canonical hash at `FetchRequest.height`, or its best hash
    /// when `height` is nil. Answered with `FetchedBlock.blockHash` = that hash (and its header).
    case canonicalHash = 6
}

/// fork-worker → node-watcher (DEALER → ROUTER): fetch data about a block.
public struct FetchRequest: ScaleBusMessage, Equatable {
    public static var messageType: MessageType { .fetchRequest }

    /// Chosen by the requester, echoed in `BlockData.requestID`.
    public var requestID: UInt64
    public var kind: FetchKind
    public var blockHash: [UInt8]
    /// How many blocks, for `.ancestors`; 1 otherwise.
    public var count: UInt32
    /// The block number, for `.canonicalHash` (nil = the node's best block); unused otherwise.
    public var height: UInt64?

    public init(requestID: UInt64, kind: FetchKind, blockHash: [UInt8], count: UInt32 = 1, height: UInt64? = nil) {
        self.requestID = requestID
        self.kind = kind
        self.blockHash = blockHash
        self.count = count
        self.height = height
    }

    public func encode(scale writer: inout ScaleWriter) {
        writer.writeU64(requestID)
        writer.writeU8(kind.rawValue)
        writer.writeByteVector(blockHash)
        writer.writeU32(count)
        writeOptional(&writer, height) { $0.writeU64($1) }
    }

    public init(scale reader: inout ScaleReader) throws(ScaleError) {
        requestID = try reader.readU64("FetchRequest.requestID")
        kind = try readEnum(&reader, "FetchRequest.kind")
        blockHash = try reader.readByteVector("FetchRequest.blockHash")
        count = try reader.readU32("FetchRequest.count")
        height = try readOptional(&reader, "FetchRequest.height") { (r: inout ScaleReader) throws(ScaleError) in
            try r.readU64("FetchRequest.height")
        }
    }
}

/// One block's data as fetched from a node; fields the request did not ask for are nil.
public struct FetchedBlock: Sendable, Equatable {
    public var blockHash: [UInt8]
    /// SCALE-encoded header.
    public var header: [UInt8]?
    /// SCALE-encoded extrinsics, one element each.
    public var extrinsics: [[UInt8]]?
    /// Raw `System.Events` storage value.
    public var events: [UInt8]?
    public var specVersion: UInt32?
    /// Raw runtime metadata, for `.metadata` requests.
    public var metadata: [UInt8]?

    public init(blockHash: [UInt8], header: [UInt8]? = nil, extrinsics: [[UInt8]]? = nil, events: [UInt8]? = nil,
                specVersion: UInt32? = nil, metadata: [UInt8]? = nil) {
        self.blockHash = blockHash
        self.header = header
        self.extrinsics = extrinsics
        self.events = events
        self.specVersion = specVersion
        self.metadata = metadata
    }

    func encode(scale writer: inout ScaleWriter) {
        writer.writeByteVector(blockHash)
        writeOptional(&writer, header) { $0.writeByteVector($1) }
        writeOptional(&writer, extrinsics) { writer, list in
            writer.writeCompact(UInt64(list.count))
            for item in list { writer.writeByteVector(item) }
        }
        writeOptional(&writer, events) { $0.writeByteVector($1) }
        writeOptional(&writer, specVersion) { $0.writeU32($1) }
        writeOptional(&writer, metadata) { $0.writeByteVector($1) }
    }

    init(scale reader: inout ScaleReader) throws(ScaleError) {
        blockHash = try reader.readByteVector("FetchedBlock.blockHash")
        header = try readOptional(&reader, "FetchedBlock.header") { (r: inout ScaleReader) throws(ScaleError) in
            try r.readByteVector("FetchedBlock.header")
        }
        extrinsics = try readOptional(&reader, "FetchedBlock.extrinsics") { (r: inout ScaleReader) throws(ScaleError) in
            let count = try r.readLength("FetchedBlock.extrinsics", minimumElementSize: 1)
            var list: [[UInt8]] = []
            list.reserveCapacity(count)
            for _ in 0 ..< count { list.append(try r.readByteVector("FetchedBlock.extrinsic")) }
            return list
        }
        events = try readOptional(&reader, "FetchedBlock.events") { (r: inout ScaleReader) throws(ScaleError) in
            try r.readByteVector("FetchedBlock.events")
        }
        specVersion = try readOptional(&reader, "FetchedBlock.specVersion") { (r: inout ScaleReader) throws(ScaleError) in
            try r.readU32("FetchedBlock.specVersion")
        }
        metadata = try readOptional(&reader, "FetchedBlock.metadata") { (r: inout ScaleReader) throws(ScaleError) in
            try r.readByteVector("FetchedBlock.metadata")
        }
    }
}

/// node-watcher → fork-worker (ROUTER → DEALER): the answer to a `FetchRequest`.
public struct BlockData: ScaleBusMessage, Equatable {
    public static var messageType: MessageType { .blockData }

    /// The outcome of a fetch.
    public enum Outcome: Sendable, Equatable {
        /// One block, or several for `.ancestors` (newest first).
        case found([FetchedBlock])
        /// The node does not know the block (pruned, or never seen).
        case notFound
        /// The node or the connection failed; `message` says how.
        case failed(message: String)
    }

    public var requestID: UInt64
    public var outcome: Outcome

    public init(requestID: UInt64, outcome: Outcome) {
        self.requestID = requestID
        self.outcome = outcome
    }

    public func encode(scale writer: inout ScaleWriter) {
        writer.writeU64(requestID)
        switch outcome {
        case .found(let blocks):
            writer.writeU8(0)
            writer.writeCompact(UInt64(blocks.count))
            for block in blocks { block.encode(scale: &writer) }
        case .notFound:
            writer.writeU8(1)
        case .failed(let message):
            writer.writeU8(2)
            writer.writeString(message)
        }
    }

    public init(scale reader: inout ScaleReader) throws(ScaleError) {
        requestID = try reader.readU64("BlockData.requestID")
        let start = reader.offset
        switch try reader.readU8("BlockData.outcome") {
        case 0:
            let count = try reader.readLength("BlockData.blocks", minimumElementSize: 6)
            var blocks: [FetchedBlock] = []
            blocks.reserveCapacity(count)
            for _ in 0 ..< count { blocks.append(try FetchedBlock(scale: &reader)) }
            outcome = .found(blocks)
        case 1:
            outcome = .notFound
        case 2:
            outcome = .failed(message: try readText(&reader, "BlockData.error"))
        case let other:
            throw ScaleError(.invalidValue("variant \(other)"), offset: start, typeName: "BlockData.outcome")
        }
    }
}

/// Why the fork-worker emits a canonical block.
public enum CanonicalMode: UInt8, Sendable, CaseIterable {
    /// Catching up on start-up.
    case startup = 0
    /// A new best-fork block as it happens.
    case current = 1
    /// Re-sent after a restart, from the alert-worker's cursor on.
    case replay = 2
}

/// fork-worker → alert-worker (PUSH): a block on the best fork, with everything needed to check it.
public struct CanonicalBlock: ScaleBusMessage, Equatable {
    public static var messageType: MessageType { .canonicalBlock }

    public var mode: CanonicalMode
    public var height: UInt64
    public var parentHash: [UInt8]
    public var block: FetchedBlock
    /// True when the parent was never sent and never will be (the bottom of the start-up context, a
    /// disconnected new fork after a gap over the limit, or the first block of a replay from an unknown
    /// cursor), so the receiver must not wait for it. Added after v1: encoded as a trailing byte only when
    /// true, and absent means false.
    public var startsChain: Bool

    public init(mode: CanonicalMode, height: UInt64, parentHash: [UInt8], block: FetchedBlock, startsChain: Bool = false) {
        self.mode = mode
        self.height = height
        self.parentHash = parentHash
        self.block = block
        self.startsChain = startsChain
    }

    public func encode(scale writer: inout ScaleWriter) {
        writer.writeU8(mode.rawValue)
        writer.writeU64(height)
        writer.writeByteVector(parentHash)
        block.encode(scale: &writer)
        if startsChain { writer.writeBool(true) }
    }

    public init(scale reader: inout ScaleReader) throws(ScaleError) {
        mode = try readEnum(&reader, "CanonicalBlock.mode")
        height = try reader.readU64("CanonicalBlock.height")
        parentHash = try reader.readByteVector("CanonicalBlock.parentHash")
        block = try FetchedBlock(scale: &reader)
        startsChain = reader.isAtEnd ? false : try reader.readBool("CanonicalBlock.startsChain")
    }
}

/// A block by hash and height.
public struct BlockRef: Sendable, Equatable {
    public var hash: [UInt8]
    public var height: UInt64

    public init(hash: [UInt8], height: UInt64) {
        self.hash = hash
        self.height = height
    }

    func encode(scale writer: inout ScaleWriter) {
        writer.writeByteVector(hash)
        writer.writeU64(height)
    }

    init(scale reader: inout ScaleReader) throws(ScaleError) {
        hash = try reader.readByteVector("BlockRef.hash")
        height = try reader.readU64("BlockRef.height")
    }
}

/// fork-worker → alert-worker (PUSH): the fork tree changed shape.
public enum ForkEvent: ScaleBusMessage, Equatable {
    public static var messageType: MessageType { .forkEvent }

    /// The best fork switched: `backwardsDepth` blocks of the old best fork were abandoned.
    case reorg(oldBest: BlockRef, newBest: BlockRef, commonAncestor: BlockRef, backwardsDepth: UInt32)
    /// A fork that is not the best one grew; `depth` is its length since `forkPoint`.
    case sideForkExtended(tip: BlockRef, forkPoint: BlockRef, depth: UInt32)

    public func encode(scale writer: inout ScaleWriter) {
        switch self {
        case .reorg(let oldBest, let newBest, let commonAncestor, let backwardsDepth):
            writer.writeU8(0)
            oldBest.encode(scale: &writer)
            newBest.encode(scale: &writer)
            commonAncestor.encode(scale: &writer)
            writer.writeU32(backwardsDepth)
        case .sideForkExtended(let tip, let forkPoint, let depth):
            writer.writeU8(1)
            tip.encode(scale: &writer)
            forkPoint.encode(scale: &writer)
            writer.writeU32(depth)
        }
    }

    public init(scale reader: inout ScaleReader) throws(ScaleError) {
        let start = reader.offset
        switch try reader.readU8("ForkEvent") {
        case 0:
            self = .reorg(oldBest: try BlockRef(scale: &reader), newBest: try BlockRef(scale: &reader),
                          commonAncestor: try BlockRef(scale: &reader), backwardsDepth: try reader.readU32("ForkEvent.backwardsDepth"))
        case 1:
            self = .sideForkExtended(tip: try BlockRef(scale: &reader), forkPoint: try BlockRef(scale: &reader),
                                     depth: try reader.readU32("ForkEvent.depth"))
        case let other:
            throw ScaleError(.invalidValue("variant \(other)"), offset: start, typeName: "ForkEvent")
        }
    }
}

/// alert-worker → notifier (PUSH): new alert rows are committed; the notifier reads them from the store.
public struct AlertDoorbell: ScaleBusMessage, Equatable {
    public static var messageType: MessageType { .alertDoorbell }

    /// The highest committed alert row id; the notifier delivers everything up to it.
    public var highestRowID: Int64
    /// How many rows the transaction added (for logs and metrics only).
    public var newRows: UInt32

    public init(highestRowID: Int64, newRows: UInt32) {
        self.highestRowID = highestRowID
        self.newRows = newRows
    }

    public func encode(scale writer: inout ScaleWriter) {
        writer.writeU64(UInt64(bitPattern: highestRowID))
        writer.writeU32(newRows)
    }

    public init(scale reader: inout ScaleReader) throws(ScaleError) {
        highestRowID = Int64(bitPattern: try reader.readU64("AlertDoorbell.highestRowID"))
        newRows = try reader.readU32("AlertDoorbell.newRows")
    }
}

/// node-watcher → supervisor and fork-worker: the health of the watcher's node connection.
public struct NodeStatus: ScaleBusMessage, Equatable {
    public static var messageType: MessageType { .nodeStatus }

    public var node: String
    public var connected: Bool
    /// Best block height the node reported last; nil before the first header.
    public var bestHeight: UInt64?
    /// Latency of the last RPC round trip, in milliseconds.
    public var rpcLatencyMilliseconds: UInt32?
    /// Why it is disconnected, or other detail worth showing; may be empty.
    public var detail: String
    /// Unix milliseconds at the watcher.
    public var observedAtMilliseconds: UInt64

    public init(node: String, connected: Bool, bestHeight: UInt64?, rpcLatencyMilliseconds: UInt32?, detail: String = "",
                observedAtMilliseconds: UInt64) {
        self.node = node
        self.connected = connected
        self.bestHeight = bestHeight
        self.rpcLatencyMilliseconds = rpcLatencyMilliseconds
        self.detail = detail
        self.observedAtMilliseconds = observedAtMilliseconds
    }

    public func encode(scale writer: inout ScaleWriter) {
        writer.writeString(node)
        writer.writeBool(connected)
        writeOptional(&writer, bestHeight) { $0.writeU64($1) }
        writeOptional(&writer, rpcLatencyMilliseconds) { $0.writeU32($1) }
        writer.writeString(detail)
        writer.writeU64(observedAtMilliseconds)
    }

    public init(scale reader: inout ScaleReader) throws(ScaleError) {
        node = try readText(&reader, "NodeStatus.node")
        connected = try reader.readBool("NodeStatus.connected")
        bestHeight = try readOptional(&reader, "NodeStatus.bestHeight") { (r: inout ScaleReader) throws(ScaleError) in
            try r.readU64("NodeStatus.bestHeight")
        }
        rpcLatencyMilliseconds = try readOptional(&reader, "NodeStatus.rpcLatency") { (r: inout ScaleReader) throws(ScaleError) in
            try r.readU32("NodeStatus.rpcLatency")
        }
        detail = try readText(&reader, "NodeStatus.detail")
        observedAtMilliseconds = try reader.readU64("NodeStatus.observedAt")
    }
}

/// alert-worker → fork-worker (PUSH to the fork-worker's PULL): what the alert-worker has durably checked.
/// Sent at start (a new `instanceID` tells the fork-worker to replay best-fork blocks after the cursor),
/// after each committed block, and every second, so a lost CanonicalBlock is noticed and re-sent.
public struct CursorReport: ScaleBusMessage, Equatable {
    public static var messageType: MessageType { .cursorReport }

    /// Random per alert-worker process start.
    public var instanceID: UInt64
    /// The last block checked and committed (nil before the first block ever).
    public var checkedHeight: UInt64?
    public var checkedHash: [UInt8]?
    /// Unix milliseconds at the alert-worker.
    public var observedAtMilliseconds: UInt64

    public init(instanceID: UInt64, checkedHeight: UInt64?, checkedHash: [UInt8]?, observedAtMilliseconds: UInt64) {
        self.instanceID = instanceID
        self.checkedHeight = checkedHeight
        self.checkedHash = checkedHash
        self.observedAtMilliseconds = observedAtMilliseconds
    }

    public func encode(scale writer: inout ScaleWriter) {
        writer.writeU64(instanceID)
        writeOptional(&writer, checkedHeight) { $0.writeU64($1) }
        writeOptional(&writer, checkedHash) { $0.writeByteVector($1) }
        writer.writeU64(observedAtMilliseconds)
    }

    public init(scale reader: inout ScaleReader) throws(ScaleError) {
        instanceID = try reader.readU64("CursorReport.instanceID")
        checkedHeight = try readOptional(&reader, "CursorReport.checkedHeight") { (r: inout ScaleReader) throws(ScaleError) in
            try r.readU64("CursorReport.checkedHeight")
        }
        checkedHash = try readOptional(&reader, "CursorReport.checkedHash") { (r: inout ScaleReader) throws(ScaleError) in
            try r.readByteVector("CursorReport.checkedHash")
        }
        observedAtMilliseconds = try reader.readU64("CursorReport.observedAt")
    }
}

/// node-watcher → fork-worker → alert-worker: which chain the node serves and its current runtime.
/// A watcher sends it after every (re)connect and after a runtime upgrade; the fork-worker forwards the
/// primary's to the alert-worker at start, when it changes, and when the alert-worker restarts. The
/// alert-worker detects the network from it (genesis hash, then chain name, then properties) and caches
/// the metadata by spec version, so metadata is never fetched per block.
public struct ChainIdentity: ScaleBusMessage, Equatable {
    public static var messageType: MessageType { .chainIdentity }

    public var node: String
    /// `chain_getBlockHash(0)`.
    public var genesisHash: [UInt8]
    /// `system_chain`, e.g. "Autonomys Mainnet".
    public var chainName: String
    /// From `system_properties`, where the node reports them.
    public var ss58Format: UInt16?
    public var tokenDecimals: UInt8?
    public var tokenSymbol: String?
    /// The runtime's spec version and its raw metadata (`meta` magic + version + body), if attached.
    public var specVersion: UInt32
    public var metadata: [UInt8]?

    public init(node: String, genesisHash: [UInt8], chainName: String, ss58Format: UInt16?, tokenDecimals: UInt8?,
                tokenSymbol: String?, specVersion: UInt32, metadata: [UInt8]?) {
        self.node = node
        self.genesisHash = genesisHash
        self.chainName = chainName
        self.ss58Format = ss58Format
        self.tokenDecimals = tokenDecimals
        self.tokenSymbol = tokenSymbol
        self.specVersion = specVersion
        self.metadata = metadata
    }

    public func encode(scale writer: inout ScaleWriter) {
        writer.writeString(node)
        writer.writeByteVector(genesisHash)
        writer.writeString(chainName)
        writeOptional(&writer, ss58Format) { $0.writeU16($1) }
        writeOptional(&writer, tokenDecimals) { $0.writeU8($1) }
        writeOptional(&writer, tokenSymbol) { $0.writeString($1) }
        writer.writeU32(specVersion)
        writeOptional(&writer, metadata) { $0.writeByteVector($1) }
    }

    public init(scale reader: inout ScaleReader) throws(ScaleError) {
        node = try readText(&reader, "ChainIdentity.node")
        genesisHash = try reader.readByteVector("ChainIdentity.genesisHash")
        chainName = try readText(&reader, "ChainIdentity.chainName")
        ss58Format = try readOptional(&reader, "ChainIdentity.ss58Format") { (r: inout ScaleReader) throws(ScaleError) in
            try r.readU16("ChainIdentity.ss58Format")
        }
        tokenDecimals = try readOptional(&reader, "ChainIdentity.tokenDecimals") { (r: inout ScaleReader) throws(ScaleError) in
            try r.readU8("ChainIdentity.tokenDecimals")
        }
        tokenSymbol = try readOptional(&reader, "ChainIdentity.tokenSymbol") { (r: inout ScaleReader) throws(ScaleError) in
            try readText(&r, "ChainIdentity.tokenSymbol")
        }
        specVersion = try reader.readU32("ChainIdentity.specVersion")
        metadata = try readOptional(&reader, "ChainIdentity.metadata") { (r: inout ScaleReader) throws(ScaleError) in
            try r.readByteVector("ChainIdentity.metadata")
        }
    }
}

/// Why a node is isolated (`NodeVerdict.reason`). Raw values are wire format.
public enum IsolationReason: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case none = 0
    /// More than `node_lag_isolate` blocks behind the best node.
    case lag = 1
    /// RPC latency above `node_latency_isolate` for a sustained period.
    case latency = 2
    /// `supervisor ctl isolate NODE`; lifted only by `ctl restore NODE`.
    case manual = 3

    public var description: String {
        switch self {
        case .none: "none"
        case .lag: "lag"
        case .latency: "latency"
        case .manual: "manual"
        }
    }
}

/// fork-worker → alert-worker (on `alert-worker.sock`): the fork-worker's verdict on one node, sent when the
/// verdict changes (isolated/restored, debounced disconnect/reconnect) and again for every node when a new
/// alert-worker instance reports. It is a state, not an event: the alert-worker raises NodeIsolated,
/// NodeRecovered, NodeDisconnected or NodeReconnected only when it differs from the state it has stored, so a
/// repeated or replayed verdict never alerts twice.
public struct NodeVerdict: ScaleBusMessage, Equatable {
    public static var messageType: MessageType { .nodeVerdict }

    /// The node URL exactly as configured.
    public var node: String
    public var isolated: Bool
    /// Why it is isolated (`.none` when it is not).
    public var reason: IsolationReason
    /// Debounced: false only after a disconnect that lasted; true again after a stable reconnect.
    public var connected: Bool
    /// Whether the node is the primary now.
    public var primary: Bool
    /// Blocks behind the best node, when known.
    public var lagBlocks: UInt64?
    /// Last measured RPC latency, milliseconds.
    public var rpcLatencyMilliseconds: UInt32?
    public var bestHeight: UInt64?
    /// The best height among healthy nodes, when known.
    public var bestNodeHeight: UInt64?
    /// Free text for the alert (the watcher's detail, or what the operator did).
    public var detail: String
    /// Unix milliseconds at the fork-worker.
    public var observedAtMilliseconds: UInt64

    public init(node: String, isolated: Bool, reason: IsolationReason, connected: Bool, primary: Bool, lagBlocks: UInt64?,
                rpcLatencyMilliseconds: UInt32?, bestHeight: UInt64?, bestNodeHeight: UInt64?, detail: String = "",
                observedAtMilliseconds: UInt64) {
        self.node = node
        self.isolated = isolated
        self.reason = reason
        self.connected = connected
        self.primary = primary
        self.lagBlocks = lagBlocks
        self.rpcLatencyMilliseconds = rpcLatencyMilliseconds
        self.bestHeight = bestHeight
        self.bestNodeHeight = bestNodeHeight
        self.detail = detail
        self.observedAtMilliseconds = observedAtMilliseconds
    }

    public func encode(scale writer: inout ScaleWriter) {
        writer.writeString(node)
        writer.writeBool(isolated)
        writer.writeU8(reason.rawValue)
        writer.writeBool(connected)
        writer.writeBool(primary)
        writeOptional(&writer, lagBlocks) { $0.writeU64($1) }
        writeOptional(&writer, rpcLatencyMilliseconds) { $0.writeU32($1) }
        writeOptional(&writer, bestHeight) { $0.writeU64($1) }
        writeOptional(&writer, bestNodeHeight) { $0.writeU64($1) }
        writer.writeString(detail)
        writer.writeU64(observedAtMilliseconds)
    }

    public init(scale reader: inout ScaleReader) throws(ScaleError) {
        node = try readText(&reader, "NodeVerdict.node")
        isolated = try reader.readBool("NodeVerdict.isolated")
        reason = try readEnum(&reader, "NodeVerdict.reason")
        connected = try reader.readBool("NodeVerdict.connected")
        primary = try reader.readBool("NodeVerdict.primary")
        lagBlocks = try readOptional(&reader, "NodeVerdict.lagBlocks") { (r: inout ScaleReader) throws(ScaleError) in
            try r.readU64("NodeVerdict.lagBlocks")
        }
        rpcLatencyMilliseconds = try readOptional(&reader, "NodeVerdict.rpcLatency") { (r: inout ScaleReader) throws(ScaleError) in
            try r.readU32("NodeVerdict.rpcLatency")
        }
        bestHeight = try readOptional(&reader, "NodeVerdict.bestHeight") { (r: inout ScaleReader) throws(ScaleError) in
            try r.readU64("NodeVerdict.bestHeight")
        }
        bestNodeHeight = try readOptional(&reader, "NodeVerdict.bestNodeHeight") { (r: inout ScaleReader) throws(ScaleError) in
            try r.readU64("NodeVerdict.bestNodeHeight")
        }
        detail = try readText(&reader, "NodeVerdict.detail")
        observedAtMilliseconds = try reader.readU64("NodeVerdict.observedAt")
    }
}

// Local helpers rather than ScaleWriter/ScaleReader extensions: those files are being extended in
// parallel and a same-named method there would make these ambiguous.

private func writeOptional<T>(_ writer: inout ScaleWriter, _ value: T?, _ body: (inout ScaleWriter, T) -> Void) {
    if let value {
        writer.writeU8(1)
        body(&writer, value)
    } else {
        writer.writeU8(0)
    }
}

private func readOptional<T>(_ reader: inout ScaleReader, _ typeName: String,
                             _ body: (inout ScaleReader) throws(ScaleError) -> T) throws(ScaleError) -> T? {
    let start = reader.offset
    switch try reader.readU8(typeName) {
    case 0: return nil
    case 1: return try body(&reader)
    case let other: throw ScaleError(.invalidValue("Option tag \(other)"), offset: start, typeName: typeName)
    }
}

private func readEnum<E: RawRepresentable>(_ reader: inout ScaleReader, _ typeName: String) throws(ScaleError) -> E
    where E.RawValue == UInt8 {
    let start = reader.offset
    let raw = try reader.readU8(typeName)
    guard let value = E(rawValue: raw) else {
        throw ScaleError(.invalidValue("variant \(raw)"), offset: start, typeName: typeName)
    }
    return value
}

private func readText(_ reader: inout ScaleReader, _ typeName: String) throws(ScaleError) -> String {
    let start = reader.offset
    let bytes = try reader.readByteVector(typeName)
    guard let text = decodeUTF8(bytes, 0 ..< bytes.count) else {
        throw ScaleError(.invalidValue("invalid UTF-8"), offset: start, typeName: typeName)
    }
    return text
}
