import Testing
@testable import SubstrateRuntime
@testable import SubstratePrimitives
import TestKit

/// The type-driven codec on a hand-built registry: every shape, both directions, and error reporting.
@Suite struct DynamicCodecTests {
    static let registry: TypeRegistry = {
        let raw: [(id: Int, path: [String], parameters: [(name: String, typeId: Int?)], shape: TypeShape)] = [
            (0, [], [], .primitive(.u8)),
            (1, [], [], .primitive(.u32)),
            (2, [], [], .primitive(.u128)),
            (3, [], [], .primitive(.u256)),
            (4, [], [], .primitive(.i256)),
            (5, [], [], .primitive(.bool)),
            (6, [], [], .primitive(.str)),
            (7, [], [], .sequence(element: 0)),
            (8, [], [], .array(length: 4, element: 0)),
            (9, ["Option"], [("T", 1)], variantShape([("None", 0, []), ("Some", 1, [TypeField(name: nil, typeId: 1, typeName: nil)])])),
            (10, ["Result"], [], variantShape([("Ok", 0, [TypeField(name: nil, typeId: 1, typeName: nil)]), ("Err", 1, [TypeField(name: nil, typeId: 6, typeName: nil)])])),
            (11, [], [], .tuple([1, 5])),
            (12, [], [], .compact(2)),
            (13, [], [], .bitSequence(storeBits: 8, order: .lsb0)),
            (14, [], [], .bitSequence(storeBits: 32, order: .msb0)),
            (15, ["pallet", "Thing"], [], .composite([TypeField(name: "a", typeId: 1, typeName: nil), TypeField(name: "b", typeId: 7, typeName: nil)])),
            (16, [], [], .sequence(element: 1)),
            (17, [], [], .primitive(.i8)),
            (18, [], [], .compact(3)),
            (19, ["Perbill"], [], .composite([TypeField(name: nil, typeId: 1, typeName: nil)])),
            (20, [], [], .compact(19)),
            (21, [], [], .tuple([])),
            (22, ["Nested"], [], .sequence(element: 22)),
        ]
        do {
            return try TypeRegistry(raw: raw)
        } catch {
            preconditionFailure("test registry is invalid: \(error)")
        }
    }()

    static func variantShape(_ variants: [(String, UInt8, [TypeField])]) -> TypeShape {
        var byIndex = [Int16](repeating: -1, count: 256)
        for (i, v) in variants.enumerated() { byIndex[Int(v.1)] = Int16(i) }
        return .variant(variants: variants.map { TypeVariant(name: $0.0, index: $0.1, fields: $0.2) }, byIndex: byIndex)
    }

    static func roundTrip(_ typeId: Int, _ hex: String) throws -> ScaleValue {
        let bytes = try #require(Hex.decode(hex))
        let value = try registry.decode(typeId, from: bytes)
        #expect(try registry.encode(value, as: typeId) == bytes, "type \(typeId) \(hex)")
        return value
    }

    @Test func integersUpTo256Bits() throws {
        #expect(try Self.roundTrip(2, "0x" + String(repeating: "ff", count: 16)).asUInt128 == UInt128.max)
        let u256 = try Self.roundTrip(3, "0x" + String(repeating: "ff", count: 32))
        #expect(NormalizedJSON.value(u256) == .string("115792089237316195423570985008687907853269984665640564039457584007913129639935"))
        let minusOne = try Self.roundTrip(4, "0x" + String(repeating: "ff", count: 32))
        #expect(NormalizedJSON.value(minusOne) == .integer(-1))
        #expect(try Self.roundTrip(17, "0x80") == .signed(-128))
        #expect(NormalizedJSON.value(.unsigned(1 << 53)) == .integer(1 << 53))
        #expect(NormalizedJSON.value(.unsigned(1 << 53 + 1)) == .string("9007199254740993"))
    }

    @Test func compactModesAndWidths() throws {
        for hex in ["0x00", "0xfc", "0x0101", "0xfdff", "0x02000100", "0xfeffffff", "0x0300000040", "0x13ffffffffffffffff", "0x33" + String(repeating: "ff", count: 16)] {
            _ = try Self.roundTrip(12, hex)
        }
        // 2^128 does not fit Compact<u128> but does fit Compact<u256>.
        let over = "0x37" + String(repeating: "00", count: 16) + "01"
        #expect(throws: ScaleError.self) { try Self.registry.decode(12, from: try #require(Hex.decode(over))) }
        #expect(NormalizedJSON.value(try Self.roundTrip(18, over)) == .string("340282366920938463463374607431768211456"))
        // Compact<Perbill> decodes to the integer only.
        #expect(try Self.roundTrip(20, "0x0101") == .unsigned(64))
        // Non-canonical forms are rejected.
        #expect(throws: ScaleError(.nonCanonicalCompact, offset: 0, typeName: "Compact<u128>")) { try Self.registry.decode(12, from: [0x01, 0x00]) }
    }

    @Test func optionResultTupleStringBool() throws {
        #expect(NormalizedJSON.value(try Self.roundTrip(9, "0x00")) == .string("None"))
        #expect(NormalizedJSON.value(try Self.roundTrip(9, "0x0105000000")) == .object([("Some", .integer(5))]))
        #expect(NormalizedJSON.value(try Self.roundTrip(10, "0x0007000000")) == .object([("Ok", .integer(7))]))
        #expect(NormalizedJSON.value(try Self.roundTrip(10, "0x010c616263")) == .object([("Err", .string("abc"))]))
        #expect(NormalizedJSON.value(try Self.roundTrip(11, "0x0100000001")) == .array([.integer(1), .bool(true)]))
        #expect(NormalizedJSON.value(try Self.roundTrip(21, "0x")) == .null)
        #expect(NormalizedJSON.value(try Self.roundTrip(8, "0x01020304")) == .string("0x01020304"))
        #expect(NormalizedJSON.value(try Self.roundTrip(16, "0x080100000002000000")) == .array([.integer(1), .integer(2)]))
        let thing = try Self.roundTrip(15, "0x2a00000008abcd")
        #expect(thing["a"]?.asUInt64 == 42)
        #expect(thing["b"]?.asBytes == [0xab, 0xcd])
        #expect(NormalizedJSON.value(thing) == .object([("a", .integer(42)), ("b", .string("0xabcd"))]))
        #expect(throws: ScaleError(.invalidValue("bool byte 2"), offset: 4, typeName: "bool")) { try Self.registry.decode(11, from: [1, 0, 0, 0, 2]) }
        #expect(throws: ScaleError(.unknownVariant(2), offset: 0, typeName: "Option")) { try Self.registry.decode(9, from: [2]) }
    }

    @Test func bitSequences() throws {
        // Lsb0 over u8: bits 1,0,1,1,0,0,0,0,1 → 0x0d 0x01.
        let lsb = try Self.roundTrip(13, "0x240d01")
        #expect(NormalizedJSON.value(lsb) == .string("101100001"))
        // Msb0 over u32: bits 1,0,1 → word 0xa0000000, little-endian.
        let msb = try Self.roundTrip(14, "0x0c000000a0")
        #expect(NormalizedJSON.value(msb) == .string("101"))
        #expect(throws: ScaleError.self) { try Self.registry.decode(14, from: [0x0c, 0, 0]) }
    }

    @Test func hostileLengthsAndDepthAreRejected() throws {
        // A Vec<u32> claiming 2^29 elements with 4 bytes of input must fail before allocating.
        #expect(throws: ScaleError.self) { try Self.registry.decode(16, from: [0xfe, 0xff, 0xff, 0x7f, 0, 0, 0, 0]) }
        // A self-nesting Vec<Vec<...>> deeper than the limit fails with tooDeep instead of exhausting the stack.
        let deep = [UInt8](repeating: 0x04, count: 1000) + [0x00]
        #expect(throws: ScaleError.self) { try Self.registry.decode(22, from: deep) }
        do {
            _ = try Self.registry.decode(22, from: deep)
        } catch {
            #expect(error.reason == .tooDeep(TypeRegistry.maxDepth))
        }
        #expect(throws: ScaleError(.trailingBytes(1), offset: 4, typeName: "u32")) { try Self.registry.decode(1, from: [1, 2, 3, 4, 5]) }
    }

    @Test func encodingRejectsValuesThatDoNotFit() {
        #expect(throws: ScaleEncodingError.self) { try Self.registry.encode(.unsigned(256), as: 0) }
        #expect(throws: ScaleEncodingError.self) { try Self.registry.encode(.string("x"), as: 1) }
        #expect(throws: ScaleEncodingError.self) { try Self.registry.encode(.bytes([1, 2]), as: 8) }
    }

    /// Spec 1.3: the 32-byte account id is found through wrappers, variants, u8 sequences, bit sequences, u256.
    @Test func accountIdRule() {
        let id = [UInt8](0 ..< 32)
        #expect(ScaleValue.bytes(id).accountId32 == id)
        let multiAddress = ScaleValue.variant(ScaleVariant(typeId: 0, index: 0, name: "Id", fields: [ScaleField(name: nil, value: .bytes(id))]))
        #expect(multiAddress.accountId32 == id)
        #expect(ScaleValue.sequence(id.map { .unsigned(UInt128($0)) }).accountId32 == id)
        #expect(ScaleValue.bytes([9] + id).accountId32 == id)
        #expect(ScaleValue.unsigned256(UInt256(littleEndian: id)).accountId32 == id)
        var bits = [Bool](repeating: false, count: 256)
        bits[8] = true
        #expect(ScaleValue.bits(bits).accountId32?[1] == 1)
        #expect(ScaleValue.bytes([1, 2, 3]).accountId32 == nil)
        #expect(ScaleValue.unsigned(5).accountId32 == nil)
    }

    @Test func hashingAndHex() {
        #expect(Hex.encode(SubstrateHash.blake2b256([])) == "0x0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8")
        #expect(Hex.encode(SubstrateHash.twox128(Array("System".utf8))) == "0x26aa394eea5630e07c48ae0c9558cef7")
        #expect(Hex.decode("0xABcd") == [0xab, 0xcd])
        #expect(Hex.decode("0xabc") == nil)
        #expect(Hex.decode("zz") == nil)
    }

    @Test func jsonRenderAndParse() throws {
        let value = JSONValue.object([("a", .array([.integer(-3), .null, .bool(true)])), ("b", .string("q\"\\\n\u{1}"))])
        #expect(try JSONValue.parse(value.rendered()) == value)
        #expect(try JSONValue.parse(value.rendered(pretty: true)) == value)
        #expect(throws: JSONParseError.self) { try JSONValue.parse("{\"a\":") }
    }
}
