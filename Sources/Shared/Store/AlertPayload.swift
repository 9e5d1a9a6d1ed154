import Foundation
import WorkerRuntime

/// How urgent an alert is, as sinks see it (`severity` in the webhook JSON).
public enum AlertSeverity: String, Codable, Sendable, CaseIterable {
    case info, warning, critical
}

/// Every alert kind of docs/INTERFACE.md. The raw value is the `kind` string sinks receive.
public enum AlertKind: String, Codable, Sendable, CaseIterable {
    case startup = "Startup"
    case blockStall = "BlockStall"
    case blockResumed = "BlockResumed"
    case blockChainTimeGap = "BlockChainTimeGap"
    case sideForkExtended = "SideForkExtended"
    case reorg = "Reorg"
    case sudoCall = "SudoCall"
    case sudoEvent = "SudoEvent"
    case largeBalanceTransfer = "LargeBalanceTransfer"
    case largeBalanceTransferEvent = "LargeBalanceTransferEvent"
    case forceBalanceTransfer = "ForceBalanceTransfer"
    case importantAddressTransfer = "ImportantAddressTransfer"
    case importantAddressTransferEvent = "ImportantAddressTransferEvent"
    case importantAddressExtrinsic = "ImportantAddressExtrinsic"
    case importantAddressEvent = "ImportantAddressEvent"
    case operatorSlashed = "OperatorSlashed"
    case operatorOffline = "OperatorOffline"
    case slowSlotTime = "SlowSlotTime"
    case fastSlotTime = "FastSlotTime"
    case farmersDecreased = "FarmersDecreased"
    case farmersIncreased = "FarmersIncreased"
    case runtimeUpgraded = "RuntimeUpgraded"
    case nodeDisconnected = "NodeDisconnected"
    case nodeReconnected = "NodeReconnected"
    case nodeIsolated = "NodeIsolated"
    case nodeRecovered = "NodeRecovered"
    case workerRestarted = "WorkerRestarted"
    case alertMessageProcessed = "AlertMessageProcessed"
    case alertMessageRejected = "AlertMessageRejected"

    /// The severity an alert of this kind carries unless its rule decides otherwise.
    public var defaultSeverity: AlertSeverity {
        switch self {
        case .blockStall, .reorg, .sudoCall, .forceBalanceTransfer, .operatorSlashed, .nodeIsolated,
             .farmersDecreased, .alertMessageRejected:
            return .critical
        case .blockChainTimeGap, .sideForkExtended, .largeBalanceTransfer, .importantAddressTransfer,
             .importantAddressExtrinsic, .operatorOffline, .slowSlotTime, .fastSlotTime, .farmersIncreased,
             .nodeDisconnected, .workerRestarted, .sudoEvent, .largeBalanceTransferEvent,
             .importantAddressTransferEvent, .importantAddressEvent:
            return .warning
        case .startup, .blockResumed, .runtimeUpgraded, .nodeReconnected, .nodeRecovered, .alertMessageProcessed:
            return .info
        }
    }
}

/// Whether the block an alert is about was seen while starting up, live, or during a replay after a restart.
public enum AlertMode: String, Codable, Sendable {
    case startup = "Startup"
    case current = "Current"
    case replay = "Replay"
}

/// A JSON scalar for the kind-specific `fields` object.
public enum AlertFieldValue: Codable, Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case null

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else { self = .string(try c.decode(String.self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .bool(let b): try c.encode(b)
        case .null: try c.encodeNil()
        }
    }

    public var description: String {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return String(b)
        case .null: return "null"
        }
    }
}

/// The object every sink receives (docs/INTERFACE.md, "What every sink receives"): the webhook body and
/// Slack's `metadata.event_payload`. `node`, `block`, `extrinsic` and `event` are encoded as JSON null
/// where they do not apply. `mode` and `block_info` are additive extras (omitted when nil).
public struct AlertPayload: Codable, Sendable, Equatable {
    /// A block an alert points at.
    public struct BlockRef: Codable, Sendable, Equatable {
        public var height: UInt64
        public var hash: String
        public init(height: UInt64, hash: String) { self.height = height; self.hash = hash }
    }
    /// An extrinsic inside the block (index in the block body).
    public struct ExtrinsicRef: Codable, Sendable, Equatable {
        public var index: UInt32
        public var hash: String
        public init(index: UInt32, hash: String) { self.index = index; self.hash = hash }
    }
    /// An event inside the block (index in System.Events).
    public struct EventRef: Codable, Sendable, Equatable {
        public var index: UInt32
        public init(index: UInt32) { self.index = index }
    }

    /// Stable dedup key: identical on every retry and across restarts.
    public var id: String
    public var kind: AlertKind
    public var severity: AlertSeverity
    /// The instance name (`--name`).
    public var instance: String
    public var network: String
    public var node: String?
    public var block: BlockRef?
    public var extrinsic: ExtrinsicRef?
    public var event: EventRef?
    public var title: String
    /// Markdown body, the same as Slack's first block.
    public var text: String
    public var links: [String: String]
    public var fields: [String: AlertFieldValue]
    /// RFC 3339.
    public var observedAt: String
    /// Extra: Startup / Current / Replay (Slack's third block starts with it).
    public var mode: AlertMode?
    /// Extra: the spec's `{BlockInfo}` markdown for Slack's third block.
    public var blockInfo: String?

    public init(id: String, kind: AlertKind, severity: AlertSeverity? = nil, instance: String, network: String,
                node: String? = nil, block: BlockRef? = nil, extrinsic: ExtrinsicRef? = nil, event: EventRef? = nil,
                title: String, text: String, links: [String: String] = [:], fields: [String: AlertFieldValue] = [:],
                observedAt: String, mode: AlertMode? = nil, blockInfo: String? = nil) {
        self.id = id
        self.kind = kind
        self.severity = severity ?? kind.defaultSeverity
        self.instance = instance
        self.network = network
        self.node = node
        self.block = block
        self.extrinsic = extrinsic
        self.event = event
        self.title = title
        self.text = text
        self.links = links
        self.fields = fields
        self.observedAt = observedAt
        self.mode = mode
        self.blockInfo = blockInfo
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, severity, instance, network, node, block, extrinsic, event, title, text, links, fields
        case observedAt = "observed_at"
        case mode
        case blockInfo = "block_info"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        kind = try c.decode(AlertKind.self, forKey: .kind)
        severity = try c.decode(AlertSeverity.self, forKey: .severity)
        instance = try c.decode(String.self, forKey: .instance)
        network = try c.decode(String.self, forKey: .network)
        node = try c.decodeIfPresent(String.self, forKey: .node)
        block = try c.decodeIfPresent(BlockRef.self, forKey: .block)
        extrinsic = try c.decodeIfPresent(ExtrinsicRef.self, forKey: .extrinsic)
        event = try c.decodeIfPresent(EventRef.self, forKey: .event)
        title = try c.decode(String.self, forKey: .title)
        text = try c.decode(String.self, forKey: .text)
        links = try c.decodeIfPresent([String: String].self, forKey: .links) ?? [:]
        fields = try c.decodeIfPresent([String: AlertFieldValue].self, forKey: .fields) ?? [:]
        observedAt = try c.decode(String.self, forKey: .observedAt)
        mode = try c.decodeIfPresent(AlertMode.self, forKey: .mode)
        blockInfo = try c.decodeIfPresent(String.self, forKey: .blockInfo)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(kind, forKey: .kind)
        try c.encode(severity, forKey: .severity)
        try c.encode(instance, forKey: .instance)
        try c.encode(network, forKey: .network)
        // INTERFACE.md: these are null (present) where they do not apply.
        try c.encode(node, forKey: .node)
        try c.encode(block, forKey: .block)
        try c.encode(extrinsic, forKey: .extrinsic)
        try c.encode(event, forKey: .event)
        try c.encode(title, forKey: .title)
        try c.encode(text, forKey: .text)
        try c.encode(links, forKey: .links)
        try c.encode(fields, forKey: .fields)
        try c.encode(observedAt, forKey: .observedAt)
        try c.encodeIfPresent(mode, forKey: .mode)
        try c.encodeIfPresent(blockInfo, forKey: .blockInfo)
    }

    /// The webhook body: compact JSON with stable key order.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Decodes a payload stored by `AlertStore`.
    public static func decode(_ data: Data) throws -> AlertPayload {
        try JSONDecoder().decode(AlertPayload.self, from: data)
    }

    /// RFC 3339 with milliseconds, UTC.
    public static func timestamp(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }
}
