import Testing
@testable import BSVAlert

@Suite struct AlertAdmissionTests {
    static var keys: AlertKeySet { get throws { try Fixture.keySet } }

    static func info(_ sequence: UInt32, _ text: String = "x", signers: [Int] = [0, 1, 2]) -> [UInt8] {
        Fixture.alert(sequence: sequence, type: .informational, payload: Fixture.varString(text), signers: signers).raw
    }

    @Test func inOrderAheadAndSeen() throws {
        var ledger = SequenceLedger(latest: 2)
        guard case .inOrder(let third) = AlertAdmission.admit(raw: Self.info(3), keys: try Self.keys, ledger: ledger) else {
            Issue.record("sequence 3 should be in order"); return
        }
        #expect(third.problem == nil && third.nodeCalls.isEmpty)
        try ledger.accept(3)
        let five = AlertAdmission.admit(raw: Self.info(5), keys: try Self.keys, ledger: ledger)
        guard case .ahead(let held, let missing) = five else { Issue.record("sequence 5 should be held, got \(five)"); return }
        #expect(missing == 4 ... 4)
        try ledger.hold(5, hash: held.hash)
        #expect(AlertAdmission.admit(raw: Self.info(5), keys: try Self.keys, ledger: ledger) == .alreadySeen(sequence: 5, hash: held.hash))
        guard case .conflictsWithHeld(_, let heldHash) = AlertAdmission.admit(raw: Self.info(5, "other"), keys: try Self.keys, ledger: ledger) else {
            Issue.record("a second alert for 5 should conflict"); return
        }
        #expect(heldHash == held.hash)
        let replay = try AlertMessage(raw: Self.info(3))
        #expect(AlertAdmission.admit(raw: Self.info(3), keys: try Self.keys, ledger: ledger) == .alreadySeen(sequence: 3, hash: replay.hash))
    }

    @Test func onlySignaturesDecideAuthenticity() throws {
        let ledger = SequenceLedger(latest: 0)
        guard case .rejected(_, let reasons) = AlertAdmission.admit(raw: Self.info(1, signers: [0, 0, 1]), keys: try Self.keys, ledger: ledger) else {
            Issue.record("a duplicate signer must be rejected"); return
        }
        #expect(reasons.last == "signatures do not verify (3 distinct keys required)")
        #expect(AlertAdmission.admit(raw: [1, 2, 3], keys: try Self.keys, ledger: ledger) == .rejected(hash: nil, reasons: ["alert shorter than 20 bytes (3)"]))
        // An authentic alert of an unknown type takes its number (recorded as rejected), so later ones are not stuck.
        let unknown = Fixture.alert(sequence: 1, type: AlertType(rawValue: 9), payload: Fixture.varString("future")).raw
        guard case .inOrder(let alert) = AlertAdmission.admit(raw: unknown, keys: try Self.keys, ledger: ledger) else {
            Issue.record("an authentic unknown type is in order"); return
        }
        #expect(alert.problem == "unknown alert type 9 (reference: no handler; panics on the gossip and sync paths)")
        #expect(alert.nodeCalls.isEmpty)
    }

    @Test func genesisFromAPeerAndType99() throws {
        let ledger = SequenceLedger()
        let genesis = Fixture.alert(sequence: 0, type: .setKeys, payload: [0, 0]).raw
        guard case .alreadySeen(0, _) = AlertAdmission.admit(raw: genesis, keys: try Self.keys, ledger: ledger) else { Issue.record("genesis"); return }
        let header = AlertHeader(version: 1, sequence: 1, timestamp: 0, type: .unfinishedDisable)
        let raw = header.encoded + [0x00, 0x00] + Fixture.signingKeys[0].sign(alertData: header.encoded + [0, 0]).bytes + [UInt8](repeating: 0, count: 63)
        #expect(AlertAdmission.admit(raw: raw, keys: try Self.keys, ledger: ledger) == .rejected(hash: try AlertMessage(raw: raw).hash, reasons: [AlertInspection.type99Reason]))
    }

    @Test func setKeysCarriesTheRotatedSet() throws {
        let newKeys = [6, 5, 4, 3, 2].map { Fixture.signingKeys[$0].publicKey }
        let raw = Fixture.alert(sequence: 1, type: .setKeys, payload: newKeys.flatMap(\.compressed)).raw
        guard case .inOrder(let alert) = AlertAdmission.admit(raw: raw, keys: try Self.keys, ledger: SequenceLedger()) else { Issue.record("set keys"); return }
        #expect(alert.rotatedKeys?.keys == newKeys)
        #expect(alert.rotatedKeys?.lastUpdateHash == alert.hash)
    }

    @Test func freezeCarriesItsNodeCall() throws {
        let raw = Fixture.alert(sequence: 1, type: .freezeUTXO, payload: PayloadTests.fund(3, vout: 1, start: 5, stop: 6, policy: 1)).raw
        guard case .inOrder(let alert) = AlertAdmission.admit(raw: raw, keys: try Self.keys, ledger: SequenceLedger()) else { Issue.record("freeze"); return }
        #expect(alert.nodeCalls.map(\.method) == ["addToConsensusBlacklist"])
    }
}

/// A manual clock's instant, so that the throttle is tested without sleeping.
struct TestInstant: InstantProtocol {
    var offset: Duration
    func advanced(by duration: Duration) -> TestInstant { TestInstant(offset: offset + duration) }
    func duration(to other: TestInstant) -> Duration { other.offset - offset }
    static func < (lhs: TestInstant, rhs: TestInstant) -> Bool { lhs.offset < rhs.offset }
}

@Suite struct RejectionThrottleTests {
    @Test func oncePerHashAndOncePerPeerReasonPerWindow() {
        var throttle = RejectionThrottle<TestInstant>(window: .seconds(600))
        let t0 = TestInstant(offset: .zero)
        let hashes = (0 ..< 5).map { AlertHash(of: [UInt8($0)]) }
        #expect(throttle.decide(hash: hashes[0], peer: "p1", reason: "bad signature", at: t0) == .raise(suppressed: 0))
        #expect(throttle.decide(hash: hashes[0], peer: "p2", reason: "other", at: t0) == .suppress, "the same message is raised once")
        #expect(throttle.decide(hash: hashes[1], peer: "p1", reason: "bad signature", at: t0.advanced(by: .seconds(10))) == .suppress)
        #expect(throttle.decide(hash: hashes[2], peer: "p1", reason: "bad signature", at: t0.advanced(by: .seconds(20))) == .suppress)
        #expect(throttle.decide(hash: hashes[3], peer: "p1", reason: "too short", at: t0.advanced(by: .seconds(30))) == .raise(suppressed: 0))
        #expect(throttle.decide(hash: hashes[4], peer: "p1", reason: "bad signature", at: t0.advanced(by: .seconds(601))) == .raise(suppressed: 2))
    }

    @Test func memoryIsBounded() {
        var throttle = RejectionThrottle<TestInstant>(window: .seconds(1), maximumRemembered: 3)
        let t0 = TestInstant(offset: .zero)
        for index in 0 ..< 10 {
            _ = throttle.decide(hash: AlertHash(of: [UInt8(index)]), peer: "p\(index)", reason: "r", at: t0.advanced(by: .seconds(Int64(index) * 2)))
        }
        // Within one window, a fourth (peer, reason) pushes out the oldest one's window.
        var busy = RejectionThrottle<TestInstant>(window: .seconds(600), maximumRemembered: 3)
        for index in 0 ..< 4 { _ = busy.decide(hash: nil, peer: "p\(index)", reason: "r", at: t0.advanced(by: .seconds(Int64(index)))) }
        #expect(busy.decide(hash: nil, peer: "p3", reason: "r", at: t0.advanced(by: .seconds(5))) == .suppress)
        #expect(busy.decide(hash: nil, peer: "p0", reason: "r", at: t0.advanced(by: .seconds(5))) == .raise(suppressed: 0))
        // The oldest hash was forgotten, so it can be raised again.
        #expect(throttle.decide(hash: AlertHash(of: [0]), peer: "new", reason: "r", at: t0.advanced(by: .seconds(100))) == .raise(suppressed: 0))
    }
}
