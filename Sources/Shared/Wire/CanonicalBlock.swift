import SubstratePrimitives

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
