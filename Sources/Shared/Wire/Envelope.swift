import SubstratePrimitives
/// How the payload of an envelope is encoded.
public enum PayloadEncoding: UInt8, Sendable, Codable, CaseIterable {
    /// Data path: block data stays SCALE end to end.
    case scale = 1
    /// Control plane, status and alerts.
    case json = 2
}

/// The fixed header in front of every bus message.
///
/// Layout (little-endian), 20 bytes then the sender id then the payload:
/// `magic 0xCA 0xB5 | version u8 | encoding u8 | type u16 | sender length u8 | reserved u8 | sequence u64 | payload length u32`
public struct EnvelopeHeader: Sendable, Equatable {
    /// Bumped whenever the layout above changes; receivers drop versions they do not know.
    public static let currentVersion: UInt8 = 1
    public static let magic: (UInt8, UInt8) = (0xCA, 0xB5)
    public static let fixedSize = 20
    /// Sender ids are worker instance names; 255 bytes is far more than any needs.
    public static let maxSenderLength = 255

    public var version: UInt8
    public var messageType: MessageType
    public var encoding: PayloadEncoding
    /// Who sent it (worker instance name, `supervisor`, `ctl-<pid>`); sequence numbers are per sender.
    public var sender: String
    /// Per-sender, per-socket sequence number starting at 1; a jump exposes lost messages.
    public var sequence: UInt64
    public var payloadLength: Int

    public init(version: UInt8 = EnvelopeHeader.currentVersion, messageType: MessageType, encoding: PayloadEncoding,
                sender: String, sequence: UInt64, payloadLength: Int) {
        self.version = version
        self.messageType = messageType
        self.encoding = encoding
        self.sender = sender
        self.sequence = sequence
        self.payloadLength = payloadLength
    }
}

/// Why a frame is not a valid envelope. Each case maps to a `MalformedFrameReason` metric label.
public enum EnvelopeError: Error, Sendable, Equatable, CustomStringConvertible {
    case truncated(frameSize: Int)
    case badMagic
    case unsupportedVersion(UInt8)
    case oversized(frameSize: Int, limit: Int)
    case unknownEncoding(UInt8)
    case unknownMessageType(UInt16)
    case encodingMismatch(MessageType, PayloadEncoding)
    case lengthMismatch(declared: Int, actual: Int)
    case invalidSender
    case undecodablePayload(MessageType, String)
    case unexpectedMessageType(expected: [MessageType], got: MessageType)
    case senderTooLong(Int)
    case payloadTooLarge(Int)

    /// The label value this error is counted under.
    public var reason: MalformedFrameReason {
        switch self {
        case .truncated: .truncated
        case .badMagic: .badMagic
        case .unsupportedVersion: .unsupportedVersion
        case .oversized, .payloadTooLarge: .oversized
        case .unknownEncoding: .unknownEncoding
        case .unknownMessageType: .unknownType
        case .encodingMismatch: .encodingMismatch
        case .lengthMismatch: .lengthMismatch
        case .invalidSender, .senderTooLong: .invalidSender
        case .undecodablePayload: .undecodablePayload
        case .unexpectedMessageType: .unexpectedType
        }
    }

    public var description: String {
        switch self {
        case .truncated(let size):
            "frame of \(size) bytes is shorter than the \(EnvelopeHeader.fixedSize)-byte envelope header"
        case .badMagic:
            "frame does not start with the envelope magic bytes: not a chain-alerter bus message"
        case .unsupportedVersion(let version):
            "envelope format version \(version) is not supported (this build speaks \(EnvelopeHeader.currentVersion)); are all processes from the same release?"
        case .oversized(let size, let limit):
            "frame of \(size) bytes exceeds the \(limit)-byte limit"
        case .unknownEncoding(let raw):
            "unknown payload encoding \(raw)"
        case .unknownMessageType(let raw):
            "unknown message type \(raw); is the sender from a newer release?"
        case .encodingMismatch(let type, let encoding):
            "\(type) must be \(type.encoding) but arrived as \(encoding)"
        case .lengthMismatch(let declared, let actual):
            "header declares \(declared) bytes after the fixed header but the frame has \(actual)"
        case .invalidSender:
            "sender id is not valid UTF-8"
        case .undecodablePayload(let type, let detail):
            "payload of \(type) does not decode: \(detail)"
        case .unexpectedMessageType(let expected, let got):
            "\(got) is not expected here (expected one of \(expected.map { "\($0)" }.joined(separator: ", ")))"
        case .senderTooLong(let length):
            "sender id of \(length) bytes exceeds \(EnvelopeHeader.maxSenderLength)"
        case .payloadTooLarge(let length):
            "payload of \(length) bytes does not fit the 32-bit length field"
        }
    }
}

/// One bus message: header plus payload bytes, carried in exactly one ZeroMQ frame.
public struct Envelope: Sendable, Equatable {
    /// Default bound on one frame: generous for block bodies and metadata, small enough to bound memory.
    public static let defaultMaxFrameSize = 32 << 20
    /// Bound on control-plane frames: a few small JSON documents, never block data.
    public static let controlMaxFrameSize = 1 << 20

    public var header: EnvelopeHeader
    public var payload: [UInt8]

    public init(header: EnvelopeHeader, payload: [UInt8]) {
        self.header = header
        self.payload = payload
    }

    /// Builds the frame bytes.
    public static func encode(messageType: MessageType, sender: String, sequence: UInt64, payload: [UInt8]) throws(EnvelopeError) -> [UInt8] {
        let senderBytes = Array(sender.utf8)
        guard senderBytes.count <= EnvelopeHeader.maxSenderLength else { throw .senderTooLong(senderBytes.count) }
        guard payload.count <= Int(UInt32.max) else { throw .payloadTooLarge(payload.count) }
        var frame: [UInt8] = []
        frame.reserveCapacity(EnvelopeHeader.fixedSize + senderBytes.count + payload.count)
        frame.append(EnvelopeHeader.magic.0)
        frame.append(EnvelopeHeader.magic.1)
        frame.append(EnvelopeHeader.currentVersion)
        frame.append(messageType.encoding.rawValue)
        appendLE(&frame, UInt64(messageType.rawValue), 2)
        frame.append(UInt8(senderBytes.count))
        frame.append(0)
        appendLE(&frame, sequence, 8)
        appendLE(&frame, UInt64(payload.count), 4)
        frame.append(contentsOf: senderBytes)
        frame.append(contentsOf: payload)
        return frame
    }

    /// Parses and checks a frame. Never traps, whatever the bytes.
    public static func decode(_ frame: [UInt8], maxFrameSize: Int = Envelope.defaultMaxFrameSize) throws(EnvelopeError) -> Envelope {
        let (header, payloadOffset) = try parseHeader(frame, maxFrameSize: maxFrameSize)
        return Envelope(header: header, payload: Array(frame[payloadOffset...]))
    }

    /// Checks a frame and returns its header and where the payload starts, without copying the payload.
    public static func parseHeader(_ frame: [UInt8], maxFrameSize: Int = Envelope.defaultMaxFrameSize) throws(EnvelopeError)
        -> (header: EnvelopeHeader, payloadOffset: Int) {
        if frame.count > maxFrameSize { throw .oversized(frameSize: frame.count, limit: maxFrameSize) }
        if frame.count < EnvelopeHeader.fixedSize { throw .truncated(frameSize: frame.count) }
        if frame[0] != EnvelopeHeader.magic.0 || frame[1] != EnvelopeHeader.magic.1 { throw .badMagic }
        if frame[2] != EnvelopeHeader.currentVersion { throw .unsupportedVersion(frame[2]) }
        guard let encoding = PayloadEncoding(rawValue: frame[3]) else { throw .unknownEncoding(frame[3]) }
        let rawType = UInt16(readLE(frame, 4, 2))
        guard let messageType = MessageType(rawValue: rawType) else { throw .unknownMessageType(rawType) }
        if messageType.encoding != encoding { throw .encodingMismatch(messageType, encoding) }
        let senderLength = Int(frame[6])
        let sequence = readLE(frame, 8, 8)
        let payloadLength = Int(readLE(frame, 16, 4))
        let actual = frame.count - EnvelopeHeader.fixedSize
        if senderLength + payloadLength != actual {
            throw .lengthMismatch(declared: senderLength + payloadLength, actual: actual)
        }
        let senderStart = EnvelopeHeader.fixedSize
        let payloadStart = senderStart + senderLength
        guard let sender = decodeUTF8(frame, senderStart ..< payloadStart) else { throw .invalidSender }
        let header = EnvelopeHeader(messageType: messageType, encoding: encoding, sender: sender, sequence: sequence,
                                    payloadLength: payloadLength)
        return (header, payloadStart)
    }

    /// Decodes the payload as `M`, checking the type first.
    public func decode<M: BusMessage>(_: M.Type) throws(EnvelopeError) -> M {
        guard header.messageType == M.messageType else {
            throw .unexpectedMessageType(expected: [M.messageType], got: header.messageType)
        }
        return try M.decodePayload(payload)
    }

    private static func appendLE(_ bytes: inout [UInt8], _ value: UInt64, _ width: Int) {
        var value = value
        for _ in 0 ..< width {
            bytes.append(UInt8(truncatingIfNeeded: value))
            value >>= 8
        }
    }

    private static func readLE(_ bytes: [UInt8], _ offset: Int, _ width: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in stride(from: offset + width - 1, through: offset, by: -1) {
            value = (value << 8) | UInt64(bytes[index])
        }
        return value
    }
}

/// Seals outgoing messages for one sending socket: stamps the sender id and the next sequence number.
public struct EnvelopeWriter: Sendable {
    public let sender: String
    /// The sequence number of the last sealed message; the first message gets 1.
    public private(set) var lastSequence: UInt64 = 0
    private let senderBytes: [UInt8]
    private var capacityHint = 256

    /// `sender` longer than 255 bytes is cut at a character boundary, so sealing never fails over it.
    public init(sender: String) {
        var name = sender
        while name.utf8.count > EnvelopeHeader.maxSenderLength { name.removeLast() }
        self.senderBytes = Array(name.utf8)
        self.sender = name
    }

    /// Seals a payload that is already encoded (forwarding, or bytes kept from a node), unchanged.
    public mutating func seal(messageType: MessageType, payload: [UInt8]) throws(EnvelopeError) -> [UInt8] {
        let frame = try Envelope.encode(messageType: messageType, sender: sender, sequence: lastSequence &+ 1, payload: payload)
        lastSequence &+= 1
        return frame
    }

    /// Builds the whole frame in one buffer: header, sender, then the payload written in place.
    public mutating func seal<M: BusMessage>(_ message: M) throws(EnvelopeError) -> [UInt8] {
        var writer = ScaleWriter(capacity: capacityHint)
        writer.writeU8(EnvelopeHeader.magic.0)
        writer.writeU8(EnvelopeHeader.magic.1)
        writer.writeU8(EnvelopeHeader.currentVersion)
        writer.writeU8(M.messageType.encoding.rawValue)
        writer.writeU16(M.messageType.rawValue)
        writer.writeU8(UInt8(senderBytes.count))
        writer.writeU8(0)
        writer.writeU64(lastSequence &+ 1)
        writer.writeU32(0)  // payload length, patched below
        writer.writeBytes(senderBytes)
        let payloadStart = writer.bytes.count
        try message.appendPayload(to: &writer)
        var frame = writer.bytes
        // Drop the writer's reference so the patch below mutates in place instead of copying.
        writer = ScaleWriter(capacity: 0)
        let payloadLength = frame.count - payloadStart
        guard payloadLength <= Int(UInt32.max) else { throw .payloadTooLarge(payloadLength) }
        frame[16] = UInt8(truncatingIfNeeded: payloadLength)
        frame[17] = UInt8(truncatingIfNeeded: payloadLength >> 8)
        frame[18] = UInt8(truncatingIfNeeded: payloadLength >> 16)
        frame[19] = UInt8(truncatingIfNeeded: payloadLength >> 24)
        lastSequence &+= 1
        capacityHint = max(64, frame.count + 16)
        return frame
    }
}

/// Opens incoming frames for one receiving socket: checks them, counts and drops the bad ones, and
/// tracks per-sender sequence numbers so lost messages show up in metrics.
public struct EnvelopeReader: Sendable {
    public let socket: String
    public let maxFrameSize: Int
    private let metrics: BusMetrics
    private var sequences: SequenceTracker

    public init(socket: String, maxFrameSize: Int = Envelope.defaultMaxFrameSize, metrics: BusMetrics = BusMetrics()) {
        self.socket = socket
        self.maxFrameSize = maxFrameSize
        self.metrics = metrics
        self.sequences = SequenceTracker()
    }

    /// The envelope, or nil (counted under `chain_alerter_bus_malformed_frames_total`) when the frame is bad.
    public mutating func open(_ frame: [UInt8]) -> Envelope? {
        do {
            let envelope = try Envelope.decode(frame, maxFrameSize: maxFrameSize)
            track(envelope.header)
            return envelope
        } catch {
            metrics.malformedFrame(socket: socket, reason: error.reason)
            return nil
        }
    }

    /// Opens a frame and decodes it as `M`; nil (counted) when the frame or its payload is bad.
    public mutating func open<M: BusMessage>(_ frame: [UInt8], as type: M.Type) -> M? {
        do throws(EnvelopeError) {
            let (header, payloadOffset) = try Envelope.parseHeader(frame, maxFrameSize: maxFrameSize)
            track(header)
            guard header.messageType == M.messageType else {
                throw .unexpectedMessageType(expected: [M.messageType], got: header.messageType)
            }
            return try M.decodePayload(inFrame: frame, at: payloadOffset)
        } catch {
            metrics.malformedFrame(socket: socket, reason: error.reason)
            return nil
        }
    }

    private mutating func track(_ header: EnvelopeHeader) {
        switch sequences.observe(sender: header.sender, sequence: header.sequence) {
        case .inOrder: break
        case .gap(let missing): metrics.sequenceGap(sender: header.sender, missing: missing)
        case .reset: metrics.sequenceReset(sender: header.sender)
        }
    }

    /// Counts a frame that was a valid envelope but could not be used (wrong type here, bad payload).
    public func countRejected(_ error: EnvelopeError) {
        metrics.malformedFrame(socket: socket, reason: error.reason)
    }
}

/// Per-sender sequence bookkeeping. Bounded: a flood of made-up sender ids cannot grow it forever.
public struct SequenceTracker: Sendable {
    /// What one observed sequence number means.
    public enum Observation: Sendable, Equatable {
        case inOrder
        /// `missing` messages between the previous one and this one never arrived.
        case gap(missing: UInt64)
        /// The sequence went backwards or repeated: the sender restarted or a message was duplicated.
        case reset
    }

    public static let maxSenders = 1024
    private var last: [String: UInt64] = [:]
    // Most sockets hear from one sender at a time; remembering it skips hashing on every message.
    private var recentSender: String? = nil
    private var recentSequence: UInt64 = 0

    public init() {}

    public mutating func observe(sender: String, sequence: UInt64) -> Observation {
        if sender == recentSender {
            let previous = recentSequence
            recentSequence = sequence
            return Self.classify(previous: previous, sequence: sequence)
        }
        if let recentSender { last[recentSender] = recentSequence }
        recentSender = sender
        recentSequence = sequence
        guard let previous = last[sender] else {
            if last.count >= Self.maxSenders { last.removeAll(keepingCapacity: true) }
            last[sender] = sequence
            // The first message seen from a sender sets the baseline: we may have started after it.
            return .inOrder
        }
        return Self.classify(previous: previous, sequence: sequence)
    }

    private static func classify(previous: UInt64, sequence: UInt64) -> Observation {
        if sequence == previous &+ 1 { return .inOrder }
        if sequence > previous { return .gap(missing: sequence - previous - 1) }
        return .reset
    }
}

/// UTF-8 bytes to a String, nil if invalid. Names are nearly always ASCII, and that check is far
/// cheaper than the generic validating initialiser on the per-message path.
func decodeUTF8(_ bytes: [UInt8], _ range: Range<Int>) -> String? {
    bytes.withUnsafeBufferPointer { buffer in
        let slice = UnsafeBufferPointer(rebasing: buffer[range])
        var ascii = true
        for byte in slice where byte >= 0x80 {
            ascii = false
            break
        }
        if ascii { return String(decoding: slice, as: UTF8.self) }
        return String(validating: slice, as: UTF8.self)
    }
}
