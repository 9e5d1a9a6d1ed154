import Testing
@testable import LibP2P

@Suite struct VarintTests {
    @Test func knownEncodings() throws {
        #expect(UVarint.encode(1) == [0x01])
        #expect(UVarint.encode(127) == [0x7f])
        #expect(UVarint.encode(128) == [0x80, 0x01])
        #expect(UVarint.encode(255) == [0xff, 0x01])
        #expect(UVarint.encode(300) == [0xac, 0x02])
        #expect(UVarint.encode(16384) == [0x80, 0x80, 0x01])
        #expect(try UVarint.decode([0xac, 0x02])?.value == 300)
        #expect(try UVarint.decode([0xac]) == nil)
        #expect(throws: P2PDecodingError.varintNotMinimal) { try UVarint.decode([0x81, 0x00]) }
        #expect(throws: P2PDecodingError.varintTooLong) { try UVarint.decode([UInt8](repeating: 0xff, count: 10)) }
    }
}
