import SubstratePrimitives
/// One item of a block header's digest.
public enum DigestItem: Sendable, Hashable {
    case preRuntime(engine: [UInt8], data: [UInt8])
    case consensus(engine: [UInt8], data: [UInt8])
    case seal(engine: [UInt8], data: [UInt8])
    case other([UInt8])
    case runtimeEnvironmentUpdated

    /// The item's type name as used in the normalized JSON (`PreRuntime`, `Consensus`, `Seal`, ...).
    public var typeName: String {
        switch self {
        case .preRuntime: "PreRuntime"
        case .consensus: "Consensus"
        case .seal: "Seal"
        case .other: "Other"
        case .runtimeEnvironmentUpdated: "RuntimeEnvironmentUpdated"
        }
    }

    /// The 4-byte consensus engine id, if the item has one.
    public var engine: [UInt8]? {
        switch self {
        case .preRuntime(let e, _), .consensus(let e, _), .seal(let e, _): e
        default: nil
        }
    }

    public var data: [UInt8]? {
        switch self {
        case .preRuntime(_, let d), .consensus(_, let d), .seal(_, let d), .other(let d): d
        case .runtimeEnvironmentUpdated: nil
        }
    }

    static func decode(from r: inout ScaleReader) throws(ScaleError) -> DigestItem {
        let start = r.offset
        let kind = try r.readU8("DigestItem")
        switch kind {
        case 4, 5, 6:
            let engine = try r.readBytes(4, "ConsensusEngineId")
            let data = try r.readByteVector("DigestItem data")
            return kind == 6 ? .preRuntime(engine: engine, data: data) : kind == 4 ? .consensus(engine: engine, data: data) : .seal(engine: engine, data: data)
        case 0:
            return .other(try r.readByteVector("DigestItem::Other"))
        case 8:
            return .runtimeEnvironmentUpdated
        default:
            throw ScaleError(.unknownVariant(Int(kind)), offset: start, typeName: "DigestItem")
        }
    }

    func encode(into w: inout ScaleWriter) {
        switch self {
        case .preRuntime(let e, let d): w.writeU8(6); w.writeBytes(e); w.writeByteVector(d)
        case .consensus(let e, let d): w.writeU8(4); w.writeBytes(e); w.writeByteVector(d)
        case .seal(let e, let d): w.writeU8(5); w.writeBytes(e); w.writeByteVector(d)
        case .other(let d): w.writeU8(0); w.writeByteVector(d)
        case .runtimeEnvironmentUpdated: w.writeU8(8)
        }
    }

    /// The item's own SCALE encoding.
    public var encoded: [UInt8] {
        var w = ScaleWriter()
        encode(into: &w)
        return w.bytes
    }
}

/// A Subspace consensus log item (`sp_consensus_subspace::ConsensusLog`) carried in a `Consensus` `SUB_` digest.
public enum SubspaceConsensusLog: Sendable, Hashable {
    case potSlotIterations(UInt32)
    case solutionRange(UInt64)
    case nextSolutionRange(UInt64)
    /// A log kind this decoder does not interpret; the raw payload is kept.
    case other(kind: UInt8, payload: [UInt8])
}

/// A block header (`sp_runtime::generic::Header<u32, BlakeTwo256>`): the layout is fixed across Substrate chains.
public struct BlockHeader: Sendable, Hashable {
    public var parentHash: [UInt8]
    public var number: UInt64
    public var stateRoot: [UInt8]
    public var extrinsicsRoot: [UInt8]
    public var digest: [DigestItem]

    /// The Subspace consensus engine id `SUB_`.
    public static let subspaceEngine: [UInt8] = Array("SUB_".utf8)

    public init(parentHash: [UInt8], number: UInt64, stateRoot: [UInt8], extrinsicsRoot: [UInt8], digest: [DigestItem]) {
        self.parentHash = parentHash
        self.number = number
        self.stateRoot = stateRoot
        self.extrinsicsRoot = extrinsicsRoot
        self.digest = digest
    }

    /// Decodes a complete SCALE-encoded header; trailing bytes are an error.
    public init(scale bytes: [UInt8]) throws(ScaleError) {
        var r = ScaleReader(bytes)
        parentHash = try r.readBytes(32, "Header.parent_hash")
        let numberOffset = r.offset
        let number = try r.readCompactU64("Header.number")
        if number > UInt64(UInt32.max) {
            throw ScaleError(.invalidValue("block number \(number) exceeds u32"), offset: numberOffset, typeName: "Header.number")
        }
        self.number = number
        stateRoot = try r.readBytes(32, "Header.state_root")
        extrinsicsRoot = try r.readBytes(32, "Header.extrinsics_root")
        let count = try r.readLength("Header.digest", minimumElementSize: 1)
        var items: [DigestItem] = []
        items.reserveCapacity(count)
        for _ in 0 ..< count { items.append(try DigestItem.decode(from: &r)) }
        digest = items
        try r.expectEnd("Header")
    }

    public var encoded: [UInt8] {
        var w = ScaleWriter(capacity: 256)
        w.writeBytes(parentHash)
        w.writeCompact(number)
        w.writeBytes(stateRoot)
        w.writeBytes(extrinsicsRoot)
        w.writeCompact(UInt64(digest.count))
        for item in digest { item.encode(into: &w) }
        return w.bytes
    }

    /// The block hash: blake2b-256 of the encoded header.
    public var hash: [UInt8] { SubstrateHash.blake2b256(encoded) }

    /// The slot from the Subspace `PreRuntime` digest (engine `SUB_`, `PreDigest::V0`: byte 0 = 0, then slot as u64 LE).
    public var subspaceSlot: UInt64? {
        for case .preRuntime(let engine, let data) in digest where engine == Self.subspaceEngine {
            guard data.count >= 9, data[0] == 0 else { return nil }
            var slot: UInt64 = 0
            for i in (1 ... 8).reversed() { slot = slot << 8 | UInt64(data[i]) }
            return slot
        }
        return nil
    }

    /// The slot as the alerter reads it (spec 3.1): the first `PreRuntime` item whatever its engine, byte 0 = 0,
    /// bytes 1...8 the slot as u64 little-endian; nil otherwise.
    public var firstPreRuntimeSlot: UInt64? {
        for case .preRuntime(_, let data) in digest {
            guard data.count >= 9, data[0] == 0 else { return nil }
            var slot: UInt64 = 0
            for i in (1 ... 8).reversed() { slot = slot << 8 | UInt64(data[i]) }
            return slot
        }
        return nil
    }

    /// The Subspace consensus logs (`Consensus` items with engine `SUB_`).
    public var subspaceConsensusLogs: [SubspaceConsensusLog] {
        var logs: [SubspaceConsensusLog] = []
        for case .consensus(let engine, let data) in digest where engine == Self.subspaceEngine && !data.isEmpty {
            var r = ScaleReader(data, offset: 1)
            switch data[0] {
            case 0 where data.count == 5: if let v = try? r.readU32() { logs.append(.potSlotIterations(v)) }
            case 1 where data.count == 9: if let v = try? r.readU64() { logs.append(.solutionRange(v)) }
            case 3 where data.count == 9: if let v = try? r.readU64() { logs.append(.nextSolutionRange(v)) }
            default: logs.append(.other(kind: data[0], payload: Array(data.dropFirst())))
            }
        }
        return logs
    }

    /// The current solution range from the Subspace `Consensus` digest, if present.
    public var subspaceSolutionRange: UInt64? {
        for case .solutionRange(let v) in subspaceConsensusLogs { return v }
        return nil
    }
}
