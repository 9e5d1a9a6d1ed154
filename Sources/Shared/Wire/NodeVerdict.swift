import SubstratePrimitives

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
