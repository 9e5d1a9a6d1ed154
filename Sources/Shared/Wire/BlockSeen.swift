import SubstratePrimitives
// The data-path messages (SCALE), one file each. Hashes and headers are raw bytes exactly as the node sent them;
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
