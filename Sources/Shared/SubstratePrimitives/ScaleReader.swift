/// A cursor over SCALE-encoded bytes. Every read checks bounds and reports the offset and type on failure.
public struct ScaleReader: Sendable {
    public let bytes: [UInt8]
    public package(set) var offset: Int
    /// Upper bound for any declared length (vector element count, byte string length).
    public var maxLength: Int

    public init(_ bytes: [UInt8], offset: Int = 0, maxLength: Int = 1 << 26) {
        self.bytes = bytes
        self.offset = offset
        self.maxLength = maxLength
    }

    public var remaining: Int { bytes.count - offset }
    public var isAtEnd: Bool { offset >= bytes.count }

    @inline(__always)
    private func need(_ count: Int, _ typeName: String) throws(ScaleError) {
        if count > bytes.count - offset {
            throw ScaleError(.truncated(needed: count, available: bytes.count - offset), offset: offset, typeName: typeName)
        }
    }

    public mutating func readU8(_ typeName: String = "u8") throws(ScaleError) -> UInt8 {
        try need(1, typeName)
        defer { offset += 1 }
        return bytes[offset]
    }

    /// Reads a little-endian unsigned integer of `width` bytes (at most 8).
    @inline(__always)
    public mutating func readLE(width: Int, _ typeName: String) throws(ScaleError) -> UInt64 {
        try need(width, typeName)
        var value: UInt64 = 0
        var i = width - 1
        while i >= 0 {
            value = (value << 8) | UInt64(bytes[offset + i])
            i -= 1
        }
        offset += width
        return value
    }

    public mutating func readU16(_ typeName: String = "u16") throws(ScaleError) -> UInt16 {
        UInt16(truncatingIfNeeded: try readLE(width: 2, typeName))
    }

    public mutating func readU32(_ typeName: String = "u32") throws(ScaleError) -> UInt32 {
        UInt32(truncatingIfNeeded: try readLE(width: 4, typeName))
    }

    public mutating func readU64(_ typeName: String = "u64") throws(ScaleError) -> UInt64 {
        try readLE(width: 8, typeName)
    }

    public mutating func readBool(_ typeName: String = "bool") throws(ScaleError) -> Bool {
        let start = offset
        switch try readU8(typeName) {
        case 0: return false
        case 1: return true
        case let other:
            throw ScaleError(.invalidValue("bool byte \(other)"), offset: start, typeName: typeName)
        }
    }

    public mutating func readBytes(_ count: Int, _ typeName: String = "bytes") throws(ScaleError) -> [UInt8] {
        if count < 0 || count > maxLength {
            throw ScaleError(.lengthTooLarge(count), offset: offset, typeName: typeName)
        }
        try need(count, typeName)
        defer { offset += count }
        return Array(bytes[offset ..< offset + count])
    }

    public mutating func skip(_ count: Int, _ typeName: String = "bytes") throws(ScaleError) {
        try need(count, typeName)
        offset += count
    }

    /// Reads a compact integer that must fit in 64 bits. Non-canonical encodings are rejected.
    public mutating func readCompactU64(_ typeName: String = "Compact<u64>") throws(ScaleError) -> UInt64 {
        let start = offset
        let first = try readU8(typeName)
        switch first & 0b11 {
        case 0b00:
            return UInt64(first >> 2)
        case 0b01:
            let second = try readU8(typeName)
            let value = (UInt64(second) << 6) | UInt64(first >> 2)
            if value < 1 << 6 { throw ScaleError(.nonCanonicalCompact, offset: start, typeName: typeName) }
            return value
        case 0b10:
            offset = start
            let raw = try readLE(width: 4, typeName)
            let value = raw >> 2
            if value < 1 << 14 { throw ScaleError(.nonCanonicalCompact, offset: start, typeName: typeName) }
            return value
        default:
            let byteCount = Int(first >> 2) + 4
            if byteCount > 8 {
                throw ScaleError(.invalidValue("compact of \(byteCount) bytes does not fit in 64 bits"), offset: start, typeName: typeName)
            }
            let value = try readLE(width: byteCount, typeName)
            // Big-integer mode is canonical only when the top byte is non-zero and the value needs more than 30 bits.
            if value >> UInt64(8 * (byteCount - 1)) == 0 || value < 1 << 30 {
                throw ScaleError(.nonCanonicalCompact, offset: start, typeName: typeName)
            }
            return value
        }
    }

    /// Reads a compact length prefix and checks it against `maxLength` and the remaining input.
    public mutating func readLength(_ typeName: String = "Vec length", minimumElementSize: Int = 0) throws(ScaleError) -> Int {
        let start = offset
        let raw = try readCompactU64(typeName)
        if raw > UInt64(maxLength) {
            throw ScaleError(.lengthTooLarge(Int(clamping: raw)), offset: start, typeName: typeName)
        }
        let length = Int(raw)
        if minimumElementSize > 0, length > remaining / minimumElementSize {
            throw ScaleError(.lengthTooLarge(length), offset: start, typeName: typeName)
        }
        return length
    }

    /// Reads `Vec<u8>`: compact length then bytes.
    public mutating func readByteVector(_ typeName: String = "Vec<u8>") throws(ScaleError) -> [UInt8] {
        let length = try readLength(typeName)
        return try readBytes(length, typeName)
    }

    public mutating func readString(_ typeName: String = "str") throws(ScaleError) -> String {
        let start = offset
        let raw = try readByteVector(typeName)
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw ScaleError(.invalidValue("invalid UTF-8"), offset: start, typeName: typeName)
        }
        return text
    }

    /// Fails unless every byte was consumed.
    public func expectEnd(_ typeName: String) throws(ScaleError) {
        if offset != bytes.count {
            throw ScaleError(.trailingBytes(bytes.count - offset), offset: offset, typeName: typeName)
        }
    }
}
