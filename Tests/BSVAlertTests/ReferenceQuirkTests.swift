import Testing
@testable import BSVAlert

/// The reference's crash inputs and trust gaps of spec §9, each answered here with a rejection and a reason
/// (built with throwaway keys, so this runs without the conformance data; the vectors cover them as well).
@Suite struct ReferenceQuirkTests {
    static var keys: AlertKeySet { get throws { try Fixture.keySet } }

    static func replacingThirdSignature(of alert: AlertMessage, header: UInt8, r: [UInt8]) throws -> AlertMessage {
        let signature = try #require(CompactSignature(exactly: [header] + r + alert.signatures[2].s))
        return AlertMessage(header: alert.header, payload: alert.payload, signatures: Array(alert.signatures.prefix(2)) + [signature])
    }

    /// §9.1: one key signing three times is 1-of-5, not 3-of-5.
    @Test func oneKeyThreeTimes() throws {
        let inspection = AlertInspection(raw: Fixture.alert(type: .informational, payload: Fixture.varString("dup"), signers: [1, 1, 1]).raw, keys: try Self.keys)
        #expect(!inspection.isValid)
        #expect(inspection.reasons.contains("signatures do not verify (3 distinct keys required)"))
    }

    /// §9.2: r = n (header 0x1f) and r = 0 (header 0x21) crash the reference's key recovery.
    @Test func craftedZeroAndOrderR() throws {
        let alert = Fixture.alert(type: .informational, payload: Fixture.varString("r"))
        for (header, r) in [(UInt8(0x1F), secp256k1Order), (0x21, [UInt8](repeating: 0, count: 32))] {
            let crafted = try Self.replacingThirdSignature(of: alert, header: header, r: r)
            let inspection = AlertInspection(raw: crafted.raw, keys: try Self.keys)
            #expect(!inspection.isValid)
            #expect(inspection.reasons.contains("signature 3: r or s outside [1, n-1]"))
        }
    }

    /// §9.3: 16–19 bytes, an invalidate-block payload under 32 bytes, an unknown type with valid signatures.
    @Test func parserCrashInputs() throws {
        let alert = Fixture.alert(type: .informational, payload: Fixture.varString("x"))
        for length in 16 ... 19 {
            #expect(AlertInspection(raw: Array(alert.raw.prefix(length)), keys: try Self.keys).reasons == ["alert shorter than 20 bytes (\(length))"])
        }
        let shortHash = AlertInspection(raw: Fixture.alert(type: .invalidateBlock, payload: [UInt8](repeating: 0x11, count: 20)).raw, keys: try Self.keys)
        #expect(shortHash.signatures?.isValid == true)
        #expect(shortHash.reasons == ["invalidate-block payload shorter than 32 bytes (reference panics)"])
        let unknown = AlertInspection(raw: Fixture.alert(type: AlertType(rawValue: 9), payload: Fixture.varString("x")).raw, keys: try Self.keys)
        #expect(unknown.signatures?.isValid == true)
        #expect(unknown.reasons == ["unknown alert type 9 (reference: no handler; panics on the gossip and sync paths)"])
    }

    /// §2.10: type 99 passes the reference with one signature; it is unsupported here.
    @Test func type99() throws {
        let header = AlertHeader(version: 1, sequence: 4, timestamp: 0, type: .unfinishedDisable)
        let payload = Fixture.varString("off")
        let signature = Fixture.signingKeys[0].sign(alertData: header.encoded + payload)
        let raw = header.encoded + payload + signature.bytes + [UInt8](repeating: 0xEE, count: 63)
        let inspection = AlertInspection(raw: raw, keys: try Self.keys)
        #expect(inspection.signatures?.signers == [Fixture.signingKeys[0].publicKey])
        #expect(!inspection.isValid)
        #expect(inspection.reasons.contains(AlertInspection.type99Reason))
    }

    /// §9.4: a sync frame declaring 2^64 − 1 bytes is refused without allocating it.
    @Test func unboundedSyncFrame() {
        var decoder = SyncFrameDecoder()
        decoder.append([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: SyncFrameError.frameTooLong(declared: .max, limit: SyncFrameDecoder.defaultLimit)) { try decoder.next() }
    }

    /// §9.6: a gap is held, not accepted out of order; a used number is never processed again.
    @Test func gapsAndReusedNumbers() throws {
        var ledger = SequenceLedger(latest: 5)
        #expect(ledger.decide(sequence: 10, hash: AlertHash(of: [10])) == .hold(missing: 6 ... 9))
        try ledger.accept(6)
        #expect(ledger.decide(sequence: 6, hash: AlertHash(of: [0x66])) == .alreadyAccepted)
    }

    /// §9.7: a Set Keys payload with a key that is not a curve point is refused (the reference stored it and
    /// then could verify nothing at all).
    @Test func setKeysWithAnInvalidPoint() throws {
        var keys = Fixture.signingKeys.prefix(5).flatMap(\.publicKey.compressed)
        keys.replaceSubrange(0 ..< 33, with: [0x03] + [UInt8](repeating: 0xFF, count: 32))
        let inspection = AlertInspection(raw: Fixture.alert(type: .setKeys, payload: keys).raw, keys: try Self.keys)
        #expect(!inspection.isValid)
        #expect(inspection.rotatedKeys == nil)
        #expect(inspection.reasons.contains { $0.hasPrefix("set-keys payload: public key 03ffff") && $0.hasSuffix("is not a point on secp256k1") })
    }

    /// §9.11: a freeze the node refused (`notProcessed`) is a final failure, not "processed".
    @Test func refusedFreezeIsNotDone() throws {
        let call = try #require(try AlertPayload(type: .freezeUTXO, bytes: PayloadTests.fund(1, vout: 0, start: 1, stop: 2, policy: 0)).nodeCalls.first)
        let answer = Array(#"{"result":{"notProcessed":[{"txOut":{"txId":"01","vout":0},"reason":"unknown"}]},"error":null}"#.utf8)
        #expect(call.classify(httpStatus: 200, body: answer) == .refused([RefusedItem(item: "01:0", reason: "unknown")]))
    }
}
