/// A 256-bit unsigned integer, enough for SCALE `u256`/`i256` and compact values wider than 128 bits.
/// Only what the codec needs: construction from bytes, comparison, and decimal rendering.
public struct UInt256: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var high: UInt128
    public var low: UInt128

    public init(high: UInt128 = 0, low: UInt128) {
        self.high = high
        self.low = low
    }

    /// From up to 32 little-endian bytes.
    public init<C: Collection>(littleEndian bytes: C) where C.Element == UInt8 {
        var low: UInt128 = 0
        var high: UInt128 = 0
        for (i, byte) in bytes.prefix(32).enumerated() {
            if i < 16 { low |= UInt128(byte) << (8 * i) } else { high |= UInt128(byte) << (8 * (i - 16)) }
        }
        self.init(high: high, low: low)
    }

    /// The 32 little-endian bytes.
    public var littleEndianBytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32)
        for i in 0 ..< 16 { out.append(UInt8(truncatingIfNeeded: low >> (8 * i))) }
        for i in 0 ..< 16 { out.append(UInt8(truncatingIfNeeded: high >> (8 * i))) }
        return out
    }

    public var isZero: Bool { high == 0 && low == 0 }

    /// Number of significant bits.
    public var bitWidth: Int { high != 0 ? 256 - high.leadingZeroBitCount : 128 - low.leadingZeroBitCount }

    /// Two's complement negation (used for `i256`).
    public var twosComplementNegated: UInt256 {
        let nl = ~low &+ 1
        let nh = ~high &+ (nl == 0 ? 1 : 0)
        return UInt256(high: nh, low: nl)
    }

    public static func < (a: UInt256, b: UInt256) -> Bool { a.high != b.high ? a.high < b.high : a.low < b.low }

    /// Decimal digits; long division by 10^19 in 64-bit limbs.
    public var description: String {
        if high == 0 { return String(low) }
        var limbs: [UInt64] = [UInt64(truncatingIfNeeded: high >> 64), UInt64(truncatingIfNeeded: high),
                               UInt64(truncatingIfNeeded: low >> 64), UInt64(truncatingIfNeeded: low)]
        let chunkDivisor: UInt64 = 10_000_000_000_000_000_000
        var chunks: [UInt64] = []
        while limbs.contains(where: { $0 != 0 }) {
            var remainder: UInt64 = 0
            for i in limbs.indices {
                let (q, r) = chunkDivisor.dividingFullWidth((high: remainder, low: limbs[i]))
                limbs[i] = q
                remainder = r
            }
            chunks.append(remainder)
        }
        var text = String(chunks.last ?? 0)
        for chunk in chunks.dropLast().reversed() {
            let part = String(chunk)
            text += String(repeating: "0", count: 19 - part.count) + part
        }
        return text
    }
}
