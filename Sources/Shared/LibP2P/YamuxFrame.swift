import NIOCore

/// A yamux frame header (hashicorp/yamux spec.md): version, type, flags, stream ID, length; 12 bytes, big-endian.
public struct YamuxHeader: Equatable, Sendable {
    /// Frame types.
    public enum FrameType: UInt8, Sendable {
        case data = 0, windowUpdate = 1, ping = 2, goAway = 3
    }

    /// Header flags.
    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        public static let syn = Flags(rawValue: 1)
        public static let ack = Flags(rawValue: 2)
        public static let fin = Flags(rawValue: 4)
        public static let rst = Flags(rawValue: 8)
    }

    public static let length = 12

    public var type: FrameType
    public var flags: Flags
    public var streamID: UInt32
    /// Data length, window delta, ping value or go-away code, by type.
    public var length: UInt32

    public init(type: FrameType, flags: Flags = [], streamID: UInt32, length: UInt32) {
        self.type = type
        self.flags = flags
        self.streamID = streamID
        self.length = length
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(type.rawValue)
        buffer.writeInteger(flags.rawValue)
        buffer.writeInteger(streamID)
        buffer.writeInteger(length)
    }

    public var bytes: [UInt8] {
        var buffer = ByteBuffer()
        write(to: &buffer)
        return Array(buffer.readableBytesView)
    }

    /// Decodes 12 header bytes; an unknown version, type or flag bit is a protocol error.
    public init(bytes: some Collection<UInt8>) throws(P2PDecodingError) {
        let b = Array(bytes)
        guard b.count == Self.length else { throw .truncated("yamux header") }
        guard b[0] == 0 else { throw .invalid("yamux version \(b[0]) is not 0") }
        guard let type = FrameType(rawValue: b[1]) else { throw .invalid("yamux frame type \(b[1]) is unknown") }
        let flags = UInt16(b[2]) << 8 | UInt16(b[3])
        guard flags & ~0x0f == 0 else { throw .invalid("yamux flags 0x\(String(flags, radix: 16)) has unknown bits") }
        self.type = type
        self.flags = Flags(rawValue: flags)
        streamID = b[4..<8].reduce(0) { $0 << 8 | UInt32($1) }
        length = b[8..<12].reduce(0) { $0 << 8 | UInt32($1) }
    }
}

/// Go-away codes.
enum YamuxGoAway: UInt32 {
    case normal = 0, protocolError = 1, internalError = 2
}
