extension ScaleReader {
    /// Reads a little-endian unsigned integer of up to 16 bytes.
    @inline(__always)
    public mutating func readLE128(width: Int, _ typeName: String) throws(ScaleError) -> UInt128 {
        if width <= 8 { return UInt128(try readLE(width: width, typeName)) }
        let lowPart = try readLE(width: 8, typeName)
        let highPart = try readLE(width: width - 8, typeName)
        return UInt128(highPart) << 64 | UInt128(lowPart)
    }

    public mutating func readU128(_ typeName: String = "u128") throws(ScaleError) -> UInt128 {
        try readLE128(width: 16, typeName)
    }

    public mutating func readU256(_ typeName: String = "u256") throws(ScaleError) -> UInt256 {
        let lowPart = try readLE128(width: 16, typeName)
        let highPart = try readLE128(width: 16, typeName)
        return UInt256(high: highPart, low: lowPart)
    }

    /// Reads a compact integer of any width up to 256 bits (big-integer mode carries up to 67 bytes; values
    /// wider than 256 bits are rejected because no SCALE type holds them). Non-canonical encodings are rejected.
    public mutating func readCompactU256(_ typeName: String = "Compact") throws(ScaleError) -> UInt256 {
        let start = offset
        let first = try readU8(typeName)
        if first & 0b11 != 0b11 {
            offset = start
            return UInt256(low: UInt128(try readCompactU64(typeName)))
        }
        let byteCount = Int(first >> 2) + 4
        if byteCount > 32 {
            throw ScaleError(.invalidValue("compact of \(byteCount) bytes does not fit in 256 bits"), offset: start, typeName: typeName)
        }
        let raw = try readBytes(byteCount, typeName)
        if raw[byteCount - 1] == 0 {
            throw ScaleError(.nonCanonicalCompact, offset: start, typeName: typeName)
        }
        let value = UInt256(littleEndian: raw)
        if value.high == 0, value.low < 1 << 30 {
            throw ScaleError(.nonCanonicalCompact, offset: start, typeName: typeName)
        }
        return value
    }

    /// Reads a compact integer that must fit in 128 bits.
    public mutating func readCompactU128(_ typeName: String = "Compact<u128>") throws(ScaleError) -> UInt128 {
        let start = offset
        let value = try readCompactU256(typeName)
        if value.high != 0 {
            throw ScaleError(.invalidValue("compact value does not fit in 128 bits"), offset: start, typeName: typeName)
        }
        return value.low
    }

    /// Moves the cursor back to an earlier offset (for re-reading a prefix).
    public mutating func seek(to newOffset: Int) {
        offset = min(max(newOffset, 0), bytes.count)
    }
}

extension ScaleWriter {
    public mutating func writeLE128(_ value: UInt128, width: Int) {
        var v = value
        for _ in 0 ..< width {
            writeU8(UInt8(truncatingIfNeeded: v))
            v >>= 8
        }
    }

    public mutating func writeU128(_ value: UInt128) { writeLE128(value, width: 16) }

    public mutating func writeU256(_ value: UInt256) { writeBytes(value.littleEndianBytes) }

    /// Canonical compact encoding of any value up to 256 bits.
    public mutating func writeCompact(_ value: UInt256) {
        if value.high == 0, value.low <= UInt128(UInt64.max) {
            writeCompact(UInt64(value.low))
            return
        }
        let byteCount = (value.bitWidth + 7) / 8
        writeU8(UInt8((byteCount - 4) << 2) | 0b11)
        writeBytes(value.littleEndianBytes.prefix(byteCount))
    }

    public mutating func writeCompact(_ value: UInt128) { writeCompact(UInt256(low: value)) }
}
