/// Reads little-endian integers, Bitcoin CompactSize varints and byte runs from a byte array, never past
/// its end. Every read that would run past the end throws `WireReader.EndOfInput` instead of trapping.
struct WireReader {
    /// A read ran past the end of the input.
    struct EndOfInput: Error {}

    let bytes: [UInt8]
    private(set) var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }
    var isAtEnd: Bool { offset >= bytes.count }

    mutating func readByte() throws(EndOfInput) -> UInt8 {
        guard remaining >= 1 else { throw EndOfInput() }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readUInt32() throws(EndOfInput) -> UInt32 {
        UInt32(truncatingIfNeeded: try readLittleEndian(4))
    }

    mutating func readUInt64() throws(EndOfInput) -> UInt64 {
        try readLittleEndian(8)
    }

    /// A Bitcoin CompactSize. Like the reference's reader, non-minimal encodings are accepted.
    mutating func readVarInt() throws(EndOfInput) -> UInt64 {
        switch try readByte() {
        case 0xFD: return try readLittleEndian(2)
        case 0xFE: return try readLittleEndian(4)
        case 0xFF: return try readLittleEndian(8)
        case let small: return UInt64(small)
        }
    }

    mutating func readBytes(_ count: Int) throws(EndOfInput) -> [UInt8] {
        guard count >= 0, remaining >= count else { throw EndOfInput() }
        defer { offset += count }
        return Array(bytes[offset ..< offset + count])
    }

    /// A length read from the wire, checked against what is left before it is used to slice anything.
    mutating func readBytes(length: UInt64) throws(EndOfInput) -> [UInt8] {
        guard length <= UInt64(remaining) else { throw EndOfInput() }
        return try readBytes(Int(length))
    }

    mutating func readRest() -> [UInt8] {
        defer { offset = bytes.count }
        return Array(bytes[min(offset, bytes.count)...])
    }

    private mutating func readLittleEndian(_ width: Int) throws(EndOfInput) -> UInt64 {
        guard remaining >= width else { throw EndOfInput() }
        var value: UInt64 = 0
        for index in 0 ..< width {
            value |= UInt64(bytes[offset + index]) << (8 * UInt64(index))
        }
        offset += width
        return value
    }
}

/// Appends the same encodings `WireReader` reads (minimal CompactSize only).
struct WireWriter {
    private(set) var bytes: [UInt8] = []

    mutating func append(_ other: [UInt8]) { bytes += other }
    mutating func append(byte: UInt8) { bytes.append(byte) }
    mutating func append(uint32 value: UInt32) { appendLittleEndian(UInt64(value), width: 4) }
    mutating func append(uint64 value: UInt64) { appendLittleEndian(value, width: 8) }

    mutating func append(varInt value: UInt64) {
        switch value {
        case ..<0xFD: bytes.append(UInt8(value))
        case ...0xFFFF: bytes.append(0xFD); appendLittleEndian(value, width: 2)
        case ...0xFFFF_FFFF: bytes.append(0xFE); appendLittleEndian(value, width: 4)
        default: bytes.append(0xFF); appendLittleEndian(value, width: 8)
        }
    }

    private mutating func appendLittleEndian(_ value: UInt64, width: Int) {
        for index in 0 ..< width { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))) }
    }
}

/// Lowercase hex, as the reference writes it; decoding accepts either case and no `0x` prefix.
public enum HexEncoding {
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of `text`, or nil when it has an odd length or a character that is not a hex digit.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0") ... UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a") ... UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A") ... UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
