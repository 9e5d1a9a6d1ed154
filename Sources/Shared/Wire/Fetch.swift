import SubstratePrimitives

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
