import NIOCore

/// Unsigned LEB128 varints as libp2p uses them (multiformats unsigned-varint: at most 9 bytes, minimal encoding).
public enum UVarint {
    /// The longest varint multiformats allows (63 bits of value).
    public static let maxEncodedBytes = 9

    /// The varint encoding of `value`.
    public static func encode(_ value: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        var rest = value
        while rest >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
        return out
    }

    /// Appends the varint encoding of `value` to `buffer`.
    public static func write(_ value: UInt64, to buffer: inout ByteBuffer) {
        var rest = value
        while rest >= 0x80 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        buffer.writeInteger(UInt8(rest))
    }

    /// Decodes one varint at the start of `bytes`: the value and how many bytes it used, or nil when `bytes`
    /// ends before the varint does. Throws on an over-long or non-minimal varint.
    public static func decode<C: Collection>(_ bytes: C) throws(P2PDecodingError) -> (value: UInt64, length: Int)? where C.Element == UInt8 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var count = 0
        for byte in bytes {
            count += 1
            if count > maxEncodedBytes { throw .varintTooLong }
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 {
                if byte == 0, count > 1 { throw .varintNotMinimal }
                return (value, count)
            }
            shift += 7
        }
        return nil
    }
}

/// Why bytes from a peer or a file could not be decoded. Each case says what was wrong with the input.
public enum P2PDecodingError: Error, Equatable, CustomStringConvertible {
    case varintTooLong
    case varintNotMinimal
    case truncated(String)
    case tooLong(what: String, length: Int, limit: Int)
    case invalid(String)

    public var description: String {
        switch self {
        case .varintTooLong: "varint longer than 9 bytes"
        case .varintNotMinimal: "varint not minimally encoded"
        case .truncated(let what): "\(what) ends early"
        case .tooLong(let what, let length, let limit): "\(what) of \(length) bytes exceeds the limit of \(limit)"
        case .invalid(let why): why
        }
    }

    /// A short stable label for the metric that counts disconnects by reason.
    public var metricReason: String {
        switch self {
        case .varintTooLong, .varintNotMinimal: "bad_varint"
        case .truncated: "truncated"
        case .tooLong: "too_long"
        case .invalid: "invalid"
        }
    }
}

/// Reads varints and length-prefixed fields from a byte array, bounds-checked.
struct ByteCursor {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { offset >= bytes.count }

    mutating func readVarint(_ what: String) throws(P2PDecodingError) -> UInt64 {
        guard let (value, length) = try UVarint.decode(bytes[offset...]) else { throw .truncated(what) }
        offset += length
        return value
    }

    mutating func readBytes(_ count: Int, _ what: String) throws(P2PDecodingError) -> [UInt8] {
        guard count >= 0, bytes.count - offset >= count else { throw .truncated(what) }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }
}
