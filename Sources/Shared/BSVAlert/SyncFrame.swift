/// One frame of the alert-system sync protocol (a libp2p stream, protocol `/bitcoin/alert-system/…`):
/// `varint len || type(1) || seq u32 LE || data`. The reference always writes the 4-byte seq.
public enum SyncFrame: Hashable, Sendable {
    case iWantLatest
    case iWantSequence(UInt32)
    /// The alert with this sequence number, raw.
    case iGotSequence(UInt32, raw: [UInt8])
    /// The sender's latest sequence number and its raw alert (which the receiver ignores).
    case iGotLatest(UInt32, raw: [UInt8])
    /// An empty body: the peer closes the stream normally.
    case endOfStream
    /// A type the protocol does not define; ignored, as the reference does.
    case unknown(type: UInt8)

    static let typeIWantLatest: UInt8 = 0x01
    static let typeIWantSequence: UInt8 = 0x02
    static let typeIGotSequence: UInt8 = 0x03
    static let typeIGotLatest: UInt8 = 0x04

    /// The frame with its length prefix, as written to the stream.
    public var encoded: [UInt8] {
        var body = WireWriter()
        switch self {
        case .iWantLatest: body.append(byte: Self.typeIWantLatest); body.append(uint32: 0)
        case .iWantSequence(let sequence): body.append(byte: Self.typeIWantSequence); body.append(uint32: sequence)
        case .iGotSequence(let sequence, let raw): body.append(byte: Self.typeIGotSequence); body.append(uint32: sequence); body.append(raw)
        case .iGotLatest(let sequence, let raw): body.append(byte: Self.typeIGotLatest); body.append(uint32: sequence); body.append(raw)
        case .endOfStream: break
        case .unknown(let type): body.append(byte: type); body.append(uint32: 0)
        }
        var frame = WireWriter()
        frame.append(varInt: UInt64(body.bytes.count))
        frame.append(body.bytes)
        return frame.bytes
    }

    /// Decodes one frame body (without its length prefix).
    public init(body: [UInt8]) throws(SyncFrameError) {
        guard let type = body.first else { self = .endOfStream; return }
        if type == Self.typeIWantLatest { self = .iWantLatest; return }
        var reader = WireReader(body, offset: 1)
        guard let sequence = try? reader.readUInt32() else { throw .bodyTooShort(type: type, length: body.count) }
        switch type {
        case Self.typeIWantSequence: self = .iWantSequence(sequence)
        case Self.typeIGotSequence: self = .iGotSequence(sequence, raw: reader.readRest())
        case Self.typeIGotLatest: self = .iGotLatest(sequence, raw: reader.readRest())
        default: self = .unknown(type: type)
        }
    }
}

/// Why bytes from a sync peer are not a usable frame. Both mean: drop the peer and sync with another.
public enum SyncFrameError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The declared length exceeds the cap (the reference allocates whatever a peer declares).
    case frameTooLong(declared: UInt64, limit: Int)
    case bodyTooShort(type: UInt8, length: Int)

    public var description: String {
        switch self {
        case .frameTooLong(let declared, let limit): "sync frame declares \(declared) bytes, more than the \(limit)-byte limit"
        case .bodyTooShort(let type, let length): "sync message of type \(type) is \(length) bytes, less than 5"
        }
    }
}

/// Cuts a byte stream into sync frames, refusing an oversized frame as soon as its length is read
/// (before any of its body is buffered).
public struct SyncFrameDecoder: Sendable {
    /// One alert (at most a gossip message, 1 MiB) plus the 5-byte type and sequence.
    public static let defaultLimit = AlertMessage.maximumLength + 5

    public let limit: Int
    private var buffer: [UInt8] = []
    private var start = 0

    public init(limit: Int = SyncFrameDecoder.defaultLimit) {
        self.limit = limit
    }

    /// Bytes received and not yet returned as frames.
    public var bufferedCount: Int { buffer.count - start }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 0, start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, or nil when more bytes are needed.
    public mutating func next() throws(SyncFrameError) -> SyncFrame? {
        var reader = WireReader(buffer, offset: start)
        guard let length = try? reader.readVarInt() else { return nil }
        guard length <= UInt64(limit) else { throw .frameTooLong(declared: length, limit: limit) }
        guard let body = try? reader.readBytes(length: length) else { return nil }
        start = reader.offset
        return try SyncFrame(body: body)
    }
}

/// The initiator's side of a sync (§5.5), as a state machine: ask for the peer's latest, then for each
/// missing sequence number in turn. Unlike the reference, an answer must carry exactly the number asked
/// for, in the frame and in the alert itself (§9.5); anything else drops the peer.
public struct SyncInitiator: Sendable {
    /// What the caller does next.
    public enum Step: Hashable, Sendable {
        case send(SyncFrame)
        /// Verify and process this alert (as a gossiped one), then call `processed()`; drop the peer if it is invalid.
        case process(sequence: UInt32, raw: [UInt8])
        /// The sync is over (caught up, or the peer is not ahead); close the stream.
        case close
        /// The peer broke the protocol: close and sync with another peer.
        case dropPeer(String)
        /// Nothing to do for this frame.
        case ignore
    }

    public private(set) var localLatest: UInt32
    public private(set) var target: UInt32?
    public private(set) var awaiting: UInt32?
    private var processing: UInt32?

    public init(localLatest: UInt32) {
        self.localLatest = localLatest
    }

    public var opening: SyncFrame { .iWantLatest }

    public mutating func receive(_ frame: SyncFrame) -> Step {
        switch frame {
        case .iGotLatest(let latest, _):
            guard target == nil else { return .dropPeer("peer sent its latest sequence twice") }
            guard latest > localLatest else { return .close }
            target = latest
            awaiting = localLatest + 1
            return .send(.iWantSequence(localLatest + 1))
        case .iGotSequence(let sequence, let raw):
            guard let awaiting, processing == nil else { return .dropPeer("peer sent sequence \(sequence), which was not asked for") }
            guard sequence == awaiting else { return .dropPeer("asked for sequence \(awaiting), the peer answered \(sequence)") }
            guard let header = AlertHeader(raw: raw), header.sequence == sequence else {
                return .dropPeer("the alert the peer sent as sequence \(sequence) does not carry that sequence number")
            }
            processing = sequence
            return .process(sequence: sequence, raw: raw)
        case .endOfStream:
            return .close
        case .iWantLatest, .iWantSequence, .unknown:
            return .ignore
        }
    }

    /// The alert handed out by `.process` was accepted: ask for the next one, or finish at the target.
    public mutating func processed() -> Step {
        guard let sequence = processing, let target else { return .dropPeer("no alert was being processed") }
        processing = nil
        localLatest = sequence
        guard sequence < target else {
            awaiting = nil
            return .close
        }
        awaiting = sequence + 1
        return .send(.iWantSequence(sequence + 1))
    }
}

/// The responder's side of a sync (§5.5): what to look up for each request, and when to close. The alert
/// rows live with the alert-worker, so the caller answers `Lookup`s and hands the result back.
public struct SyncResponder: Sendable {
    /// A question for the store.
    public enum Lookup: Hashable, Sendable {
        case latest
        case sequence(UInt32)
    }

    /// What the caller does next.
    public enum Step: Hashable, Sendable {
        case lookup(Lookup)
        case send(SyncFrame)
        /// Send this frame, then close the stream (the peer has asked for our latest alert).
        case sendAndClose(SyncFrame)
        case close
        case ignore
    }

    /// Our latest sequence number as told to the peer; asking for it ends the exchange.
    public private(set) var announcedLatest: UInt32?

    public init() {}

    public mutating func receive(_ frame: SyncFrame) -> Step {
        switch frame {
        case .iWantLatest: .lookup(.latest)
        case .iWantSequence(let sequence): .lookup(.sequence(sequence))
        case .endOfStream: .close
        case .iGotLatest, .iGotSequence, .unknown: .ignore
        }
    }

    /// The store's answer to `lookup`: the alert's sequence number and raw bytes, or nil when it has none
    /// (the genesis alert is never served: every node makes its own).
    public mutating func answer(_ lookup: Lookup, with alert: (sequence: UInt32, raw: [UInt8])?) -> Step {
        switch lookup {
        case .latest:
            let latest = alert?.sequence ?? 0
            announcedLatest = latest
            return .send(.iGotLatest(latest, raw: latest == 0 ? [] : alert?.raw ?? []))
        case .sequence(let requested):
            guard requested != 0, let alert, alert.sequence == requested else { return .close }
            let frame = SyncFrame.iGotSequence(requested, raw: alert.raw)
            return requested == announcedLatest ? .sendAndClose(frame) : .send(frame)
        }
    }
}
