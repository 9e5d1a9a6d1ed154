import Metrics
import SubstratePrimitives

/// The bus's counters. Labels are stable; dashboards and alerts depend on them.
///
/// Takes its `MetricsFactory` explicitly so tests can hand each case its own `TestMetrics`
/// without bootstrapping the process-wide metrics system.
public struct BusMetrics: Sendable {
    public static let malformedFramesLabel = "chain_alerter_bus_malformed_frames_total"
    public static let sequenceGapsLabel = "chain_alerter_bus_sequence_gaps_total"
    public static let messagesMissedLabel = "chain_alerter_bus_messages_missed_total"
    public static let sequenceResetsLabel = "chain_alerter_bus_sequence_resets_total"
    public static let sendWouldBlockLabel = "chain_alerter_bus_send_would_block_total"
    public static let sendUnroutableLabel = "chain_alerter_bus_send_unroutable_total"
    public static let outboundRejectedLabel = "chain_alerter_bus_outbound_rejected_total"

    private let factory: any MetricsFactory

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    /// A frame on `socket` was dropped; `reason` is one of `MalformedFrameReason`'s raw values.
    public func malformedFrame(socket: String, reason: MalformedFrameReason) {
        Counter(label: Self.malformedFramesLabel, dimensions: [("socket", socket), ("reason", reason.rawValue)], factory: factory)
            .increment()
    }

    /// `sender` skipped `missing` sequence numbers.
    public func sequenceGap(sender: String, missing: UInt64) {
        Counter(label: Self.sequenceGapsLabel, dimensions: [("sender", sender)], factory: factory).increment()
        Counter(label: Self.messagesMissedLabel, dimensions: [("sender", sender)], factory: factory)
            .increment(by: Int64(clamping: missing))
    }

    /// `sender` went back to an earlier sequence number: it restarted, or a message was duplicated.
    public func sequenceReset(sender: String) {
        Counter(label: Self.sequenceResetsLabel, dimensions: [("sender", sender)], factory: factory).increment()
    }

    /// A non-blocking send on `socket` returned EAGAIN.
    public func sendWouldBlock(socket: String) {
        Counter(label: Self.sendWouldBlockLabel, dimensions: [("socket", socket)], factory: factory).increment()
    }

    /// A ROUTER send named a peer that is not connected (EHOSTUNREACH); the message was dropped.
    public func sendUnroutable(socket: String) {
        Counter(label: Self.sendUnroutableLabel, dimensions: [("socket", socket)], factory: factory).increment()
    }

    /// A caller's message was refused because the socket's outbound queue was full.
    public func outboundRejected(socket: String) {
        Counter(label: Self.outboundRejectedLabel, dimensions: [("socket", socket)], factory: factory).increment()
    }
}

/// Why a received frame was dropped. Raw values are metric label values: never rename them.
public enum MalformedFrameReason: String, Sendable, CaseIterable {
    case truncated = "truncated"
    case badMagic = "bad_magic"
    case unsupportedVersion = "unsupported_version"
    case oversized = "oversized"
    case unknownEncoding = "unknown_encoding"
    case unknownType = "unknown_type"
    case encodingMismatch = "encoding_mismatch"
    case lengthMismatch = "length_mismatch"
    case invalidSender = "invalid_sender"
    case undecodablePayload = "undecodable_payload"
    case unexpectedType = "unexpected_type"
    case unexpectedFrameCount = "unexpected_frame_count"
}
