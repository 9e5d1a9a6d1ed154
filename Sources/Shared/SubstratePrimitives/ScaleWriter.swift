/// Appends SCALE encodings to a byte buffer.
public struct ScaleWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func writeU8(_ value: UInt8) { bytes.append(value) }

    public mutating func writeLE(_ value: UInt64, width: Int) {
        var v = value
        for _ in 0 ..< width {
            bytes.append(UInt8(truncatingIfNeeded: v))
            v >>= 8
        }
    }

    public mutating func writeU16(_ value: UInt16) { writeLE(UInt64(value), width: 2) }
    public mutating func writeU32(_ value: UInt32) { writeLE(UInt64(value), width: 4) }
    public mutating func writeU64(_ value: UInt64) { writeLE(value, width: 8) }
    public mutating func writeBool(_ value: Bool) { bytes.append(value ? 1 : 0) }
    public mutating func writeBytes<C: Collection>(_ raw: C) where C.Element == UInt8 { bytes.append(contentsOf: raw) }

    /// Canonical compact encoding of a value that fits in 64 bits.
    public mutating func writeCompact(_ value: UInt64) {
        switch value {
        case 0 ..< (1 << 6):
            bytes.append(UInt8(value << 2))
        case (1 << 6) ..< (1 << 14):
            writeLE((value << 2) | 0b01, width: 2)
        case (1 << 14) ..< (1 << 30):
            writeLE((value << 2) | 0b10, width: 4)
        default:
            let byteCount = (64 - value.leadingZeroBitCount + 7) / 8
            bytes.append(UInt8((byteCount - 4) << 2) | 0b11)
            writeLE(value, width: byteCount)
        }
    }

    public mutating func writeByteVector<C: Collection>(_ raw: C) where C.Element == UInt8 {
        writeCompact(UInt64(raw.count))
        bytes.append(contentsOf: raw)
    }

    public mutating func writeString(_ text: String) { writeByteVector(Array(text.utf8)) }
}
