import SubstratePrimitives

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
