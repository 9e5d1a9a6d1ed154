import Testing
@testable import BSVAlert

/// Random corruptions of real alerts (a fixed seed, bounded count): the parser, the verifier and the
/// payload decoders never trap, every input gets a verdict, and only the untouched alert stays valid.
@Suite struct MutationFuzzTests {
    static func seeds() throws -> [[UInt8]] {
        var seeds: [[UInt8]] = [
            Fixture.alert(type: .informational, payload: Fixture.varString("fuzz")).raw,
            Fixture.alert(type: .banPeer, payload: Fixture.varString("1.2.3.4") + Fixture.varString("r")).raw,
            Fixture.alert(type: .setKeys, payload: Fixture.signingKeys.prefix(5).flatMap(\.publicKey.compressed)).raw,
            Fixture.alert(type: .freezeUTXO, payload: PayloadTests.fund(1, vout: 0, start: 1, stop: 2, policy: 1)).raw,
        ]
        for vector in BSVConformance.vectors {
            if let hex = vector["raw_hex"]?.stringValue, let raw = HexEncoding.decode(hex) { seeds.append(raw) }
        }
        return seeds
    }

    static func mutate(_ input: [UInt8], using random: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0 ..< Int.random(in: 1 ... 4, using: &random) {
            switch Int.random(in: 0 ..< 6, using: &random) {
            case 0 where !bytes.isEmpty:  // flip one bit
                let index = Int.random(in: 0 ..< bytes.count, using: &random)
                bytes[index] ^= 1 << UInt8.random(in: 0 ..< 8, using: &random)
            case 1 where !bytes.isEmpty:  // overwrite one byte, often with a varint marker
                bytes[Int.random(in: 0 ..< bytes.count, using: &random)] = [0x00, 0xFD, 0xFE, 0xFF, 0x1F, 0x23, UInt8.random(in: 0 ... 255, using: &random)].randomElement(using: &random) ?? 0
            case 2:  // truncate
                bytes = Array(bytes.prefix(Int.random(in: 0 ... bytes.count, using: &random)))
            case 3:  // insert bytes
                let index = Int.random(in: 0 ... bytes.count, using: &random)
                bytes.insert(contentsOf: (0 ..< Int.random(in: 1 ... 8, using: &random)).map { _ in UInt8.random(in: 0 ... 255, using: &random) }, at: index)
            case 4 where bytes.count > 20:  // change the type field
                bytes[16] = UInt8.random(in: 0 ... 10, using: &random)
                bytes[17] = 0
                bytes[18] = 0
                bytes[19] = 0
            default:  // delete a run
                guard !bytes.isEmpty else { break }
                let start = Int.random(in: 0 ..< bytes.count, using: &random)
                bytes.removeSubrange(start ..< min(bytes.count, start + Int.random(in: 1 ... 16, using: &random)))
            }
        }
        return bytes
    }

    @Test func corruptedAlertsGetAVerdictAndNeverVerify() throws {
        var random = SplitMix64(state: 0xB5A1_E27)
        let keys = [AlertKeySet.genesis(.local), try Fixture.keySet]
        var parsed = 0
        var total = 0
        for seed in try Self.seeds() {
            for _ in 0 ..< 120 {
                let mutated = Self.mutate(seed, using: &random)
                guard mutated != seed else { continue }
                total += 1
                for keySet in keys {
                    let inspection = AlertInspection(raw: mutated, keys: keySet)
                    #expect(inspection.isValid == inspection.reasons.isEmpty)
                    if inspection.message != nil { parsed += 1 }
                    // Everything but type 99's dropped tail is signed, so a corrupted alert can only be valid
                    // if it still is the seed's message.
                    if inspection.isValid, let message = inspection.message, let original = try? AlertMessage(raw: seed) {
                        #expect(message.data == original.data && message.signatures == original.signatures, "a corrupted alert verified: \(HexEncoding.encode(mutated))")
                    }
                    // The verdict always renders as JSON that reads back.
                    #expect(AlertJSON.parse(Array(inspection.json.rendered.utf8)) != nil)
                }
            }
        }
        // 4 built seeds always, 27 more from the vectors when the conformance data is there.
        #expect(total > (BSVConformance.isAvailable ? 3000 : 400))
        #expect(parsed > total / 4, "mutations should often still parse, so that verification and payloads are exercised")
    }

    @Test func randomBytesNeverTrap() {
        var random = SplitMix64(state: 42)
        let keys = AlertKeySet.genesis(.local)
        for _ in 0 ..< 2000 {
            let length = Int.random(in: 0 ... 400, using: &random)
            var bytes = (0 ..< length).map { _ in UInt8.random(in: 0 ... 255, using: &random) }
            if bytes.count > 20, Bool.random(using: &random) { bytes.replaceSubrange(16 ..< 20, with: [UInt8.random(in: 1 ... 8, using: &random), 0, 0, 0]) }
            let inspection = AlertInspection(raw: bytes, keys: keys)
            #expect(!inspection.isValid)
            for type: UInt32 in 1 ... 9 { _ = try? AlertPayload(type: AlertType(rawValue: type), bytes: Array(bytes.prefix(Int.random(in: 0 ... 200, using: &random)))) }
        }
    }
}
