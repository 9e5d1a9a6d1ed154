import SubstratePrimitives

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
