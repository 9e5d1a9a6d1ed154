import Testing
@testable import SubstratePrimitives
import TestKit

@Suite struct ScalePrimitiveTests {
    static let compactValues: [UInt64] = [0, 1, 63, 64, 16383, 16384, (1 << 30) - 1, 1 << 30, UInt64(UInt32.max), 1 << 32, 1 << 53, UInt64.max]

    @Test(arguments: compactValues)
    func compactRoundTrip(value: UInt64) throws {
        var writer = ScaleWriter()
        writer.writeCompact(value)
        var reader = ScaleReader(writer.bytes)
        #expect(try reader.readCompactU64() == value)
        #expect(reader.isAtEnd)
    }

    @Test func nonCanonicalCompactIsRejected() {
        // 1 encoded in two-byte mode.
        var reader = ScaleReader([0b0000_0101, 0x00])
        #expect(throws: ScaleError(.nonCanonicalCompact, offset: 0, typeName: "Compact<u64>")) {
            try reader.readCompactU64()
        }
    }

    @Test func truncatedInputNamesOffsetAndType() {
        var reader = ScaleReader([1, 2, 3])
        #expect(throws: ScaleError(.truncated(needed: 4, available: 3), offset: 0, typeName: "u32")) {
            try reader.readU32()
        }
    }
}
