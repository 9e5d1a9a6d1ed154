import Testing
@testable import BSVAlert

/// Fresh alerts signed here with throwaway keys (scalars 1…7), so these tests need no conformance data.
enum Fixture {
    static let signingKeys: [AlertSigningKey] = (1 ... 7).compactMap { scalar in
        try? AlertSigningKey(privateKeyHex: String(repeating: "0", count: 62) + String(format2: scalar))
    }
    static var keySet: AlertKeySet {
        get throws { try AlertKeySet(keys: signingKeys.prefix(5).map(\.publicKey), network: .testnet) }
    }

    static func alert(sequence: UInt32 = 1, type: AlertType, payload: [UInt8], signers: [Int] = [0, 1, 2]) -> AlertMessage {
        let header = AlertHeader(version: 1, sequence: sequence, timestamp: 1_700_000_000, type: type)
        let data = header.encoded + payload
        return AlertMessage(header: header, payload: payload, signatures: signers.map { signingKeys[$0].sign(alertData: data) })
    }

    static func varString(_ text: String) -> [UInt8] {
        var writer = WireWriter()
        writer.append(varInt: UInt64(text.utf8.count))
        writer.append(Array(text.utf8))
        return writer.bytes
    }
}

extension String {
    init(format2 value: Int) {
        let hex = String(value, radix: 16)
        self = hex.count == 1 ? "0" + hex : hex
    }
}

@Suite struct MessageFormatTests {
    @Test func hashIsTheByteReversedDoubleSHA256OfData() throws {
        // app/models/alert_message_test.go: version 0, seq 1, ts 0, type 1, no payload.
        let data = try bytes(hex: "0000000001000000000000000000000001000000")
        #expect(AlertHash(of: data).displayHex == "dea523f6449b08f64b8b4c1f416333bd14ed14ebe2d2585a826cd348228a3ecf")
    }

    @Test func roundTripAndLengthBounds() throws {
        let alert = Fixture.alert(type: .informational, payload: Fixture.varString("hi"))
        let parsed = try AlertMessage(raw: alert.raw)
        #expect(parsed == alert)
        #expect(parsed.raw.count == 20 + 3 + 195)
        for length in [0, 1, 15, 16, 19] {
            #expect(throws: AlertParseError.shorterThanHeader(length: length)) { try AlertMessage(raw: Array(alert.raw.prefix(length))) }
        }
        #expect(throws: AlertParseError.tooShort(bytesAfterHeader: 196, signatureBlock: 195)) { try AlertMessage(raw: Array(alert.raw.prefix(216))) }
        let huge = alert.header.encoded + [UInt8](repeating: 0, count: AlertMessage.maximumLength)
        #expect(throws: AlertParseError.tooLong(length: huge.count)) { try AlertMessage(raw: huge) }
    }

    @Test func type99TakesOneSignatureFromA128ByteTail() throws {
        let header = AlertHeader(version: 1, sequence: 3, timestamp: 0, type: .unfinishedDisable)
        let raw = header.encoded + [0x01, 0x41] + [UInt8](repeating: 0x1f, count: 128)
        let parsed = try AlertMessage(raw: raw)
        #expect(parsed.signatures.count == 1)
        #expect(parsed.payload == [0x01, 0x41])
        #expect(parsed.raw.count == raw.count - 63)
        #expect(throws: AlertParseError.tooShort(bytesAfterHeader: 129, signatureBlock: 128)) { try AlertMessage(raw: Array(raw.prefix(149))) }
    }

    @Test func nonMinimalVarIntsAreAcceptedLikeTheReference() throws {
        #expect(try AlertPayload(type: .informational, bytes: [0xFD, 0x02, 0x00, 0x68, 0x69]) == .informational(message: Array("hi".utf8)))
    }
}

@Suite struct PayloadTests {
    @Test func informational() throws {
        #expect(try AlertPayload(type: .informational, bytes: [0x00]) == .informational(message: []))
        #expect(throws: AlertPayloadError.trailingBytes) { try AlertPayload(type: .informational, bytes: [0x01, 0x41, 0x42]) }
        #expect(throws: AlertPayloadError.messageLengthExceedsPayload) { try AlertPayload(type: .informational, bytes: [0x05, 0x41]) }
        #expect(throws: AlertPayloadError.varIntTruncated) { try AlertPayload(type: .informational, bytes: [0xFE, 0x01]) }
        let decoded = try AlertPayload(type: .informational, bytes: [0x02, 0xFF, 0xFE])
        #expect(decoded.json["message_utf8"] == .null, "invalid UTF-8 is shown as null, the hex is still there")
        #expect(decoded.json["message_hex"] == .string("fffe"))
    }

    static func fund(_ txid: UInt8, vout: UInt64, start: UInt64, stop: UInt64, policy: UInt8) -> [UInt8] {
        var writer = WireWriter()
        writer.append([UInt8](repeating: txid, count: 32))
        writer.append(uint64: vout)
        writer.append(uint64: start)
        writer.append(uint64: stop)
        writer.append(byte: policy)
        return writer.bytes
    }

    @Test func freezeAndUnfreezeCarryEveryRecordInOneCall() throws {
        let bytes = Self.fund(0xAB, vout: 2, start: 10, stop: 20, policy: 0) + Self.fund(0xCD, vout: UInt64.max, start: 1, stop: 2, policy: 7)
        let freeze = try AlertPayload(type: .freezeUTXO, bytes: bytes)
        guard case .freezeUTXO(let funds) = freeze else { Issue.record("not a freeze"); return }
        #expect(funds.count == 2)
        #expect(funds[1].policyExpiresWithConsensus)
        #expect(!funds[0].policyExpiresWithConsensus)
        let calls = freeze.nodeCalls
        #expect(calls.count == 1)
        #expect(calls[0].method == "addToConsensusBlacklist")
        let first = "{\"txOut\":{\"txId\":\"" + String(repeating: "ab", count: 32) + "\",\"vout\":2},\"enforceAtHeight\":[{\"start\":10,\"stop\":20}],\"policyExpiresWithConsensus\":false}"
        let second = "{\"txOut\":{\"txId\":\"" + String(repeating: "cd", count: 32) + "\",\"vout\":-1},\"enforceAtHeight\":[{\"start\":1,\"stop\":2}],\"policyExpiresWithConsensus\":true}"
        #expect(calls[0].requestBody == "{\"id\":\"go-bn\",\"jsonRpc\":\"1.0\",\"method\":\"addToConsensusBlacklist\",\"params\":[{\"funds\":[\(first),\(second)]}]}")
        let unfreeze = try AlertPayload(type: .unfreezeUTXO, bytes: bytes)
        #expect(unfreeze.nodeCalls == calls, "unfreeze sends the same call as freeze")
        #expect(throws: AlertPayloadError.fundsLength(56)) { try AlertPayload(type: .freezeUTXO, bytes: Array(bytes.prefix(56))) }
        #expect(throws: AlertPayloadError.fundsLength(58)) { try AlertPayload(type: .unfreezeUTXO, bytes: Array(bytes.prefix(58))) }
        #expect(AlertPayloadError.fundsLength(20).description.contains("shorter than one 57-byte record"))
    }

    @Test func confiscation() throws {
        var writer = WireWriter()
        writer.append(uint64: 900_100)
        writer.append(varInt: 3)
        writer.append([0x01, 0x02, 0x03, 0xEE, 0xEE])
        let decoded = try AlertPayload(type: .confiscateUTXO, bytes: writer.bytes)
        #expect(decoded == .confiscateUTXO(enforceAtHeight: 900_100, transaction: [1, 2, 3], ignoredTrailingBytes: 2))
        #expect(decoded.nodeCalls.first?.requestBody
            == "{\"id\":\"go-bn\",\"jsonRpc\":\"1.0\",\"method\":\"addToConfiscationTxidWhitelist\",\"params\":[{\"confiscationTxs\":[{\"confiscationTx\":{\"enforceAtHeight\":900100,\"hex\":\"010203\"}}]}]}")
        #expect(throws: AlertPayloadError.confiscationTooShort(8)) { try AlertPayload(type: .confiscateUTXO, bytes: Array(writer.bytes.prefix(8))) }
        #expect(throws: AlertPayloadError.transactionTruncated(declared: 3, available: 2)) { try AlertPayload(type: .confiscateUTXO, bytes: Array(writer.bytes.prefix(11))) }
    }

    @Test func banAndUnban() throws {
        let bytes = Fixture.varString("10.0.0.0/8") + Fixture.varString("spam")
        #expect(try AlertPayload(type: .banPeer, bytes: bytes).nodeCalls == [NodeRPCCall(method: "setban", params: [.string("10.0.0.0/8"), .string("add")])])
        #expect(try AlertPayload(type: .unbanPeer, bytes: bytes).nodeCalls == [NodeRPCCall(method: "setban", params: [.string("10.0.0.0/8"), .string("remove")])])
        // Trailing bytes: allowed after a ban (as the reference), refused after an unban.
        #expect(try AlertPayload(type: .banPeer, bytes: bytes + [0x00]) == .banPeer(peer: "10.0.0.0/8", reason: "spam"))
        #expect(throws: AlertPayloadError.trailingBytes) { try AlertPayload(type: .unbanPeer, bytes: bytes + [0x00]) }
        #expect(throws: AlertPayloadError.peerTruncated) { try AlertPayload(type: .banPeer, bytes: [0x20, 0x31]) }
        #expect(throws: AlertPayloadError.reasonTruncated) { try AlertPayload(type: .banPeer, bytes: [0x01, 0x31, 0x09]) }
        #expect(throws: AlertPayloadError.varIntTruncated) { try AlertPayload(type: .unbanPeer, bytes: [0x01, 0x31]) }
    }

    @Test func invalidateBlockReversesTheHashForTheRPC() throws {
        let display = "00000000000000000ab414417d6197f620a3917dc25d6fac7191de37739c45d6"
        let wire = Array(try bytes(hex: display).reversed())
        let decoded = try AlertPayload(type: .invalidateBlock, bytes: wire + Fixture.varString("hello"))
        #expect(decoded.json["block_hash"] == .string(display))
        #expect(decoded.nodeCalls.first?.requestBody == "{\"id\":\"go-bn\",\"jsonRpc\":\"1.0\",\"method\":\"invalidateblock\",\"params\":[\"\(display)\"]}")
        #expect(throws: AlertPayloadError.blockHashTruncated(31)) { try AlertPayload(type: .invalidateBlock, bytes: Array(wire.prefix(31))) }
        #expect(throws: AlertPayloadError.varIntTruncated) { try AlertPayload(type: .invalidateBlock, bytes: wire) }
        #expect(throws: AlertPayloadError.noReason) { try AlertPayload(type: .invalidateBlock, bytes: wire + [0x00]) }
        #expect(throws: AlertPayloadError.trailingBytes) { try AlertPayload(type: .invalidateBlock, bytes: wire + Fixture.varString("x") + [0x00]) }
    }

    @Test func setKeysNeedsFiveDistinctCurvePoints() throws {
        let keys = Fixture.signingKeys.prefix(5).map(\.publicKey)
        let bytes = keys.flatMap(\.compressed)
        #expect(try AlertPayload(type: .setKeys, bytes: bytes) == .setKeys(keys))
        #expect(try AlertPayload(type: .setKeys, bytes: bytes).nodeCalls.isEmpty)
        #expect(throws: AlertPayloadError.setKeysLength(164)) { try AlertPayload(type: .setKeys, bytes: Array(bytes.prefix(164))) }
        #expect(throws: AlertPayloadError.setKeysLength(0)) { try AlertPayload(type: .setKeys, bytes: []) }
        var offCurve = bytes
        offCurve.replaceSubrange(33 ..< 66, with: [0x02] + [UInt8](repeating: 0xFF, count: 32))  // x ≥ p
        #expect(throws: AlertPayloadError.setKeysKey(.notOnCurve(hex: "02" + String(repeating: "ff", count: 32)))) { try AlertPayload(type: .setKeys, bytes: offCurve) }
        var uncompressedPrefix = bytes
        uncompressedPrefix[0] = 0x04
        #expect(throws: AlertPayloadError.self) { try AlertPayload(type: .setKeys, bytes: uncompressedPrefix) }
        let repeated = keys[0].compressed + keys[0].compressed + keys[1 ..< 4].flatMap(\.compressed)
        #expect(throws: AlertPayloadError.setKeysKey(.duplicateKey(keys[0].hex))) { try AlertPayload(type: .setKeys, bytes: repeated) }
    }

    @Test func unknownTypesAreRejectedCleanly() {
        for type: UInt32 in [0, 9, 99, 1000, .max] {
            #expect(throws: AlertPayloadError.unknownType(type)) { try AlertPayload(type: AlertType(rawValue: type), bytes: [0x00, 0x00]) }
            #expect(AlertType(rawValue: type).name == "")
        }
    }
}

@Suite struct VerificationTests {
    @Test func threeDistinctActiveKeysAreValid() throws {
        let alert = Fixture.alert(type: .informational, payload: Fixture.varString("ok"), signers: [4, 0, 2])
        let verdict = AlertVerifier.verify(alert, keys: try Fixture.keySet)
        #expect(verdict.isValid)
        #expect(verdict.reasons.isEmpty)
        #expect(verdict.signers == [Fixture.signingKeys[4].publicKey, Fixture.signingKeys[0].publicKey, Fixture.signingKeys[2].publicKey])
    }

    @Test func oneKeyCountsOnce() throws {
        for signers in [[0, 0, 0], [0, 1, 0], [2, 2, 1]] {
            let verdict = AlertVerifier.verify(Fixture.alert(type: .informational, payload: Fixture.varString("x"), signers: signers), keys: try Fixture.keySet)
            #expect(!verdict.isValid, "\(signers)")
            #expect(verdict.reasons.last == "signatures do not verify (3 distinct keys required)")
        }
    }

    @Test func aKeyOutsideTheActiveSetDoesNotCount() throws {
        let alert = Fixture.alert(type: .informational, payload: Fixture.varString("x"), signers: [0, 1, 6])
        let verdict = AlertVerifier.verify(alert, keys: try Fixture.keySet)
        #expect(!verdict.isValid)
        #expect(verdict.checks[2] == .unknownKey(Fixture.signingKeys[6].publicKey))
        #expect(verdict.reasons.contains("signature 3: recovered key \(Fixture.signingKeys[6].publicKey.hex) is not in the active key set"))
    }

    @Test func signaturesOverOtherDataDoNotVerify() throws {
        let alert = Fixture.alert(type: .informational, payload: Fixture.varString("x"))
        let tampered = AlertMessage(header: alert.header, payload: Fixture.varString("y"), signatures: alert.signatures)
        #expect(!AlertVerifier.verify(tampered, keys: try Fixture.keySet).isValid)
    }

    /// §9.2: r or s of 0 or ≥ n, and headers outside 31...34, are refused before recovery (no crash).
    @Test func craftedSignaturesAreRejectedBeforeRecovery() throws {
        let alert = Fixture.alert(type: .informational, payload: Fixture.varString("x"))
        let n = secp256k1Order
        let zero = [UInt8](repeating: 0, count: 32)
        let good = alert.signatures[2]
        let craft: [(UInt8, [UInt8], [UInt8], SignatureCheck)] = [
            (0x1F, n, good.s, .scalarOutOfRange), (0x21, zero, good.s, .scalarOutOfRange), (0x20, good.r, zero, .scalarOutOfRange),
            (0x20, good.r, n, .scalarOutOfRange), (0x20, [UInt8](repeating: 0xFF, count: 32), good.s, .scalarOutOfRange),
            (0x1B, good.r, good.s, .headerOutOfRange(0x1B)), (0x23, good.r, good.s, .headerOutOfRange(0x23)), (0x00, good.r, good.s, .headerOutOfRange(0)),
        ]
        for (header, r, s, want) in craft {
            let signature = try #require(CompactSignature(exactly: [header] + r + s))
            let message = AlertMessage(header: alert.header, payload: alert.payload, signatures: Array(alert.signatures.prefix(2)) + [signature])
            let verdict = AlertVerifier.verify(message, keys: try Fixture.keySet)
            #expect(!verdict.isValid)
            #expect(verdict.checks[2] == want)
        }
        // recid 2/3 means R.x = r + n, which must stay below p: with a large r there is no such point.
        let large = try bytes(hex: "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140")
        let signature = try #require(CompactSignature(exactly: [0x21] + large + good.s))
        #expect(Secp256k1Recovery.recover(signature, digest: [UInt8](repeating: 1, count: 32)) == .recoveryFailed)
    }

    @Test func wrongSignatureCountIsReported() throws {
        let alert = Fixture.alert(type: .informational, payload: Fixture.varString("x"))
        let one = AlertMessage(header: alert.header, payload: alert.payload, signatures: [alert.signatures[0]])
        let verdict = AlertVerifier.verify(one, keys: try Fixture.keySet)
        #expect(!verdict.isValid)
        #expect(verdict.reasons.first == "3 signatures required, the message carries 1")
    }
}

@Suite struct KeySetTests {
    @Test func genesisSetsAreValidAndMainnetHasNoTestKey() {
        for network in AlertNetwork.allCases {
            #expect(AlertKeySet.genesis(network).keys.count == 5)
        }
        #expect(AlertKeySet.genesis(.mainnet).keys.allSatisfy { !AlertKeySet.publicTestKeys.contains($0) })
        #expect(AlertKeySet.genesis(.testnet) == (try? AlertKeySet(keys: AlertKeySet.genesis(.stn).keys, network: .testnet)))
        #expect(Set(AlertKeySet.genesis(.local).keys) == AlertKeySet.publicTestKeys)
    }

    /// §9.8: the reference's public test keys are never a mainnet trust anchor, neither at start nor by rotation.
    @Test func publicTestKeysAreRefusedOnMainnet() throws {
        let testKeys = AlertKeySet.genesis(.local).keys
        #expect(throws: AlertKeyError.publicTestKeyOnMainnet(testKeys[0].hex)) { try AlertKeySet(keys: testKeys, network: .mainnet) }
        let mainnetLike = try AlertKeySet(keys: Fixture.signingKeys.prefix(5).map(\.publicKey), network: .mainnet)
        let mixed = Array(Fixture.signingKeys.prefix(4).map(\.publicKey)) + [testKeys[3]]
        #expect(throws: AlertKeyError.publicTestKeyOnMainnet(testKeys[3].hex)) { try mainnetLike.rotated(by: mixed, alertHash: AlertHash(of: [])) }
        // A Set Keys alert that tries it is reported as not valid, with the reason.
        let alert = Fixture.alert(type: .setKeys, payload: mixed.flatMap(\.compressed))
        let inspection = AlertInspection(raw: alert.raw, keys: mainnetLike)
        #expect(!inspection.isValid)
        #expect(inspection.reasons.contains { $0.contains("public test keys") })
        #expect(inspection.rotatedKeys == nil)
        // The same keys are fine on the local network.
        #expect(try AlertKeySet(keys: testKeys, network: .local).keys == testKeys)
    }

    @Test func keysAreValidatedAsCurvePoints() throws {
        #expect(throws: AlertKeyError.notOnCurve(hex: "02" + String(repeating: "ff", count: 32))) { try AlertPublicKey(hex: "02" + String(repeating: "ff", count: 32)) }
        #expect(throws: AlertKeyError.wrongLength(hex: "0203", length: 2)) { try AlertPublicKey(hex: "0203") }
        #expect(throws: AlertKeyError.notHex("xyz")) { try AlertPublicKey(hex: "xyz") }
        let key = Fixture.signingKeys[0].publicKey
        #expect(try AlertPublicKey(hex: key.hex.uppercased()) == key, "upper-case hex is the same key (the reference made duplicate rows)")
        #expect(throws: AlertKeyError.noKeys) { try AlertKeySet(keys: [], network: .local) }
        #expect(throws: AlertKeyError.duplicateKey(key.hex)) { try AlertKeySet(keys: [key, key], network: .local) }
        let eleven = (1 ... 11).compactMap { try? AlertSigningKey(privateKeyHex: String(repeating: "0", count: 62) + String(format2: $0 + 16)).publicKey }
        #expect(throws: AlertKeyError.tooManyKeys(11)) { try AlertKeySet(keys: eleven, network: .local) }
        #expect(try AlertKeySet(keyFileContents: "# comment\n\n \(key.hex) \n").keys == [key])
        #expect(throws: AlertKeyError.invalidPrivateKey) { try AlertSigningKey(privateKeyHex: String(repeating: "0", count: 64)) }
        #expect(throws: AlertKeyError.invalidPrivateKey) { try AlertSigningKey(privateKeyHex: "1234") }
        #expect(throws: AlertKeyError.invalidPrivateKey) { try AlertSigningKey(privateKeyHex: HexEncoding.encode(secp256k1Order)) }
        #expect(!"\(Fixture.signingKeys[0])".contains(String(repeating: "0", count: 62) + "01"), "a signing key never shows its secret")
        #expect(throws: AlertKeyError.self) { try AlertKeySet(keyFileContents: "\(key.hex)\nnot-a-key\n") }
    }

    @Test func setKeysRotationReplacesTheActiveSet() throws {
        let old = try Fixture.keySet
        let newKeys = [6, 5, 4, 3, 2].map { Fixture.signingKeys[$0].publicKey }
        let rotation = Fixture.alert(sequence: 5, type: .setKeys, payload: newKeys.flatMap(\.compressed), signers: [0, 1, 2])
        let inspection = AlertInspection(raw: rotation.raw, keys: old)
        #expect(inspection.isValid, "\(inspection.reasons)")
        let rotated = try #require(inspection.rotatedKeys)
        #expect(rotated.keys == newKeys)
        #expect(rotated.lastUpdateHash == rotation.hash)
        #expect(rotated.network == old.network)
        // From then on the new set verifies: keys 5 and 6 count, keys 0 and 1 no longer do.
        let after = Fixture.alert(sequence: 6, type: .informational, payload: Fixture.varString("new"), signers: [6, 5, 4])
        #expect(AlertVerifier.verify(after, keys: rotated).isValid)
        #expect(!AlertVerifier.verify(after, keys: old).isValid)
        let byOldKeys = Fixture.alert(sequence: 6, type: .informational, payload: Fixture.varString("old"), signers: [0, 1, 2])
        #expect(!AlertVerifier.verify(byOldKeys, keys: rotated).isValid)
    }
}

@Suite struct SequenceLedgerTests {
    let hashA = AlertHash(of: [1])
    let hashB = AlertHash(of: [2])

    @Test func acceptsInOrder() throws {
        var ledger = SequenceLedger()
        #expect(ledger.decide(sequence: 0, hash: hashA) == .alreadyAccepted, "sequence 0 is the genesis, made locally")
        for sequence: UInt32 in 1 ... 3 {
            #expect(ledger.decide(sequence: sequence, hash: hashA) == .accept)
            try ledger.accept(sequence)
        }
        #expect(ledger.latest == 3)
        #expect(ledger.decide(sequence: 2, hash: hashB) == .alreadyAccepted)
        #expect(throws: SequenceLedgerError.notNext(sequence: 5, next: 4)) { try ledger.accept(5) }
    }

    @Test func holdsGapsAndReleasesThemInOrder() throws {
        var ledger = SequenceLedger(latest: 4)
        #expect(ledger.decide(sequence: 8, hash: hashA) == .hold(missing: 5 ... 7))
        try ledger.hold(8, hash: hashA)
        #expect(ledger.decide(sequence: 8, hash: hashA) == .alreadyHeld)
        #expect(ledger.decide(sequence: 8, hash: hashB) == .conflictsWithHeld(hashA))
        #expect(ledger.decide(sequence: 10, hash: hashB) == .hold(missing: 5 ... 7))
        try ledger.hold(10, hash: hashB)
        #expect(ledger.gaps == [5 ... 7, 9 ... 9])
        #expect(ledger.decide(sequence: 6, hash: hashB) == .hold(missing: 5 ... 5))
        #expect(ledger.releasable == nil)
        for sequence: UInt32 in 5 ... 7 {
            #expect(ledger.decide(sequence: sequence, hash: hashA) == .accept)
            try ledger.accept(sequence)
        }
        let released = try #require(ledger.releasable)
        #expect(released.sequence == 8 && released.hash == hashA)
        try ledger.accept(8)
        #expect(ledger.releasable == nil)
        #expect(ledger.gaps == [9 ... 9])
        try ledger.accept(9)
        #expect(ledger.releasable?.sequence == 10)
        try ledger.accept(10)
        #expect(ledger.held.isEmpty && ledger.gaps.isEmpty && ledger.latest == 10)
        #expect(throws: SequenceLedgerError.cannotHold(3)) { try ledger.hold(3, hash: hashA) }
    }

    @Test func holdIsBounded() throws {
        var ledger = SequenceLedger(latest: 0, maximumHeld: 2)
        try ledger.hold(3, hash: hashA)
        try ledger.hold(5, hash: hashA)
        #expect(ledger.decide(sequence: 7, hash: hashA) == .holdLimitReached)
        #expect(ledger.decide(sequence: 1, hash: hashA) == .accept, "the next one is always accepted")
    }

    @Test func theLastSequenceNumber() throws {
        var ledger = SequenceLedger(latest: .max - 1)
        #expect(ledger.decide(sequence: .max, hash: hashA) == .accept)
        try ledger.accept(.max)
        #expect(ledger.next == nil)
        #expect(ledger.decide(sequence: .max, hash: hashA) == .alreadyAccepted)
        #expect(ledger.decide(sequence: 1, hash: hashA) == .alreadyAccepted)
        #expect(ledger.gaps.isEmpty)
    }
}

@Suite struct NodeAnswerTests {
    let ban = NodeRPCCall(method: "setban", params: [.string("10.0.0.0/8"), .string("add")])
    let unban = NodeRPCCall(method: "setban", params: [.string("10.0.0.0/8"), .string("remove")])
    let freeze = NodeRPCCall(method: "addToConsensusBlacklist", params: [.fields(["funds": .array([])])])
    let confiscate = NodeRPCCall(method: "addToConfiscationTxidWhitelist", params: [.fields(["confiscationTxs": .array([])])])

    static func body(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func accepted() {
        #expect(ban.classify(httpStatus: 200, body: Self.body(#"{"result":null,"error":null,"id":"go-bn"}"#)) == .done)
        #expect(freeze.classify(httpStatus: 200, body: Self.body(#"{"result":{"notProcessed":[]},"error":null}"#)) == .done)
    }

    @Test func alreadyDoneCodesCountAsDone() {
        let banned = ban.classify(httpStatus: 500, body: Self.body(#"{"result":null,"error":{"code":-23,"message":"Error: IP/Subnet already banned"}}"#))
        #expect(banned == .alreadyDone(code: -23, message: "Error: IP/Subnet already banned"))
        #expect(banned.isDone)
        let notBanned = unban.classify(httpStatus: 500, body: Self.body(#"{"result":null,"error":{"code":-30,"message":"Error: Unban failed"}}"#))
        #expect(notBanned.isDone)
        // The codes only mean "already done" for the call they belong to.
        #expect(!unban.classify(httpStatus: 500, body: Self.body(#"{"result":null,"error":{"code":-23,"message":"x"}}"#)).isDone)
        #expect(!ban.classify(httpStatus: 500, body: Self.body(#"{"result":null,"error":{"code":-30,"message":"x"}}"#)).isDone)
    }

    @Test func notProcessedEntriesAreFinalFailures() {
        let txid = String(repeating: "ab", count: 32)
        let outcome = freeze.classify(httpStatus: 200, body: Self.body(#"{"result":{"notProcessed":[{"txOut":{"txId":"\#(txid)","vout":1},"reason":"already spent"}]},"error":null}"#))
        #expect(outcome == .refused([RefusedItem(item: "\(txid):1", reason: "already spent")]))
        #expect(outcome.isFinal && !outcome.isDone)
        let confiscation = confiscate.classify(httpStatus: 200, body: Self.body(#"{"result":{"notProcessed":[{"confiscationTx":{"txId":"\#(txid)"},"reason":"invalid"}]},"error":null}"#))
        #expect(confiscation == .refused([RefusedItem(item: txid, reason: "invalid")]))
    }

    @Test func everythingElseIsRetried() {
        let error = ban.classify(httpStatus: 500, body: Self.body(#"{"result":null,"error":{"code":-8,"message":"Invalid IP/Subnet"}}"#))
        #expect(error == .failed("-8: Invalid IP/Subnet"))
        #expect(!error.isFinal)
        #expect(!ban.classify(httpStatus: 401, body: []).isFinal)
        #expect(!ban.classify(httpStatus: 502, body: Self.body("<html>bad gateway</html>")).isFinal)
        #expect(unban.requestBody == #"{"id":"go-bn","jsonRpc":"1.0","method":"setban","params":["10.0.0.0/8","remove"]}"#)
        #expect(NodeRPCCall(method: "getbestblockhash", params: []).requestBody == #"{"id":"go-bn","jsonRpc":"1.0","method":"getbestblockhash"}"#)
    }
}

@Suite struct AlertNetworkTests {
    /// Spec §6.2, "Shipped per-network values".
    @Test func shippedValues() {
        let table: [(AlertNetwork, String, String, String)] = [
            (.mainnet, "/bitcoin/alert-system/1.0.0", "bitcoin_alert_system", "http://localhost:8332"),
            (.testnet, "/bitcoin-testnet/alert-system/0.0.1", "bitcoin_alert_system_testnet", "http://localhost:18332"),
            (.stn, "/bitcoin-stn/alert-system/0.0.1", "bitcoin_alert_system_stn", "http://localhost:9332"),
            (.local, "/bitcoin-testnet/alert-system/0.0.1", "alert_system_testnet", "http://localhost:8333"),
        ]
        for (network, protocolID, topic, rpc) in table {
            #expect(network.protocolID == protocolID)
            #expect(network.topic == topic)
            #expect(network.defaultNodeRPCURL == rpc)
            #expect(network.defaultP2PPort == 9906)
            #expect(network.genesisKeys == AlertKeySet.genesis(network))
        }
        #expect(AlertNetwork.stn.displayName == "Bitcoin SV stn")
        #expect(AlertNetwork(referenceEnvironment: "Production") == .mainnet)
        #expect(AlertNetwork(referenceEnvironment: "test") == .local)
        #expect(AlertNetwork(referenceEnvironment: "regtest") == nil)
    }
}
