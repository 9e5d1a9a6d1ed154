import SubstratePrimitives

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
