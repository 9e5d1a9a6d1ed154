import SubstratePrimitives
// FoundationEssentials where it exists: full Foundation would load ICU into every worker.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Every message type that crosses a process boundary. Raw values are wire format: never reuse one.
public enum MessageType: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    // Control plane (JSON), on the supervisor's control ROUTER.
    case workerHello = 1
    case workerHeartbeat = 2
    case supervisorCommand = 3
    case ctlRequest = 4
    case ctlResponse = 5

    // Data path (SCALE).
    case blockSeen = 100
    case fetchRequest = 101
    case blockData = 102
    case canonicalBlock = 103
    case forkEvent = 104
    case alertDoorbell = 105
    case nodeStatus = 106
    case cursorReport = 107
    case chainIdentity = 108
    case nodeVerdict = 109

    /// The only encoding this type may arrive in; anything else is dropped as malformed.
    public var encoding: PayloadEncoding {
        rawValue < 100 ? .json : .scale
    }

    public var description: String {
        switch self {
        case .workerHello: "WorkerHello"
        case .workerHeartbeat: "WorkerHeartbeat"
        case .supervisorCommand: "SupervisorCommand"
        case .ctlRequest: "CtlRequest"
        case .ctlResponse: "CtlResponse"
        case .blockSeen: "BlockSeen"
        case .fetchRequest: "FetchRequest"
        case .blockData: "BlockData"
        case .canonicalBlock: "CanonicalBlock"
        case .forkEvent: "ForkEvent"
        case .alertDoorbell: "AlertDoorbell"
        case .nodeStatus: "NodeStatus"
        case .cursorReport: "CursorReport"
        case .chainIdentity: "ChainIdentity"
        case .nodeVerdict: "NodeVerdict"
        }
    }
}

/// A message that travels in an `Envelope`.
public protocol BusMessage: Sendable {
    static var messageType: MessageType { get }
    func encodePayload() throws(EnvelopeError) -> [UInt8]
    static func decodePayload(_ payload: [UInt8]) throws(EnvelopeError) -> Self
    /// Appends the payload to a frame being built (saves a copy on the hot path).
    func appendPayload(to writer: inout ScaleWriter) throws(EnvelopeError)
    /// Decodes the payload found at `offset` in a whole frame (saves a copy on the hot path).
    static func decodePayload(inFrame frame: [UInt8], at offset: Int) throws(EnvelopeError) -> Self
}

extension BusMessage {
    public func appendPayload(to writer: inout ScaleWriter) throws(EnvelopeError) {
        writer.writeBytes(try encodePayload())
    }

    public static func decodePayload(inFrame frame: [UInt8], at offset: Int) throws(EnvelopeError) -> Self {
        try decodePayload(Array(frame[offset...]))
    }
}

/// A data-path message, SCALE-encoded with the shared `ScaleWriter`/`ScaleReader`.
public protocol ScaleBusMessage: BusMessage {
    func encode(scale writer: inout ScaleWriter)
    init(scale reader: inout ScaleReader) throws(ScaleError)
}

extension ScaleBusMessage {
    public func encodePayload() throws(EnvelopeError) -> [UInt8] {
        var writer = ScaleWriter(capacity: 256)
        encode(scale: &writer)
        return writer.bytes
    }

    public static func decodePayload(_ payload: [UInt8]) throws(EnvelopeError) -> Self {
        try decodePayload(inFrame: payload, at: 0)
    }

    public func appendPayload(to writer: inout ScaleWriter) throws(EnvelopeError) {
        encode(scale: &writer)
    }

    public static func decodePayload(inFrame frame: [UInt8], at offset: Int) throws(EnvelopeError) -> Self {
        do {
            var reader = ScaleReader(frame, offset: offset)
            let value = try Self(scale: &reader)
            try reader.expectEnd(messageType.description)
            return value
        } catch {
            throw .undecodablePayload(messageType, error.description)
        }
    }
}

/// A control-plane or status message, JSON-encoded.
public protocol JSONBusMessage: BusMessage, Codable {}

extension JSONBusMessage {
    public func encodePayload() throws(EnvelopeError) -> [UInt8] {
        do {
            let encoder = JSONEncoder()
            // Sorted keys: the same message always gives the same bytes (reproducible frames, stable tests).
            encoder.outputFormatting = .sortedKeys
            return Array(try encoder.encode(self))
        } catch {
            throw .undecodablePayload(Self.messageType, "JSON encoding failed: \(error)")
        }
    }

    public static func decodePayload(_ payload: [UInt8]) throws(EnvelopeError) -> Self {
        try decodePayload(inFrame: payload, at: 0)
    }

    public static func decodePayload(inFrame frame: [UInt8], at offset: Int) throws(EnvelopeError) -> Self {
        do {
            return try JSONDecoder().decode(Self.self, from: Data(frame[offset...]))
        } catch {
            throw .undecodablePayload(messageType, "\(error)")
        }
    }
}

// MARK: control plane (types in Control/ControlMessages.swift)

extension WorkerHello: JSONBusMessage { public static var messageType: MessageType { .workerHello } }
extension WorkerHeartbeat: JSONBusMessage { public static var messageType: MessageType { .workerHeartbeat } }
extension SupervisorCommand: JSONBusMessage { public static var messageType: MessageType { .supervisorCommand } }
extension CtlRequest: JSONBusMessage { public static var messageType: MessageType { .ctlRequest } }
extension CtlResponse: JSONBusMessage { public static var messageType: MessageType { .ctlResponse } }
