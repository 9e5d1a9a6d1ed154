import Foundation
import Testing
@testable import BSVAlert

@Suite struct SyncFrameTests {
    @Test func encodingMatchesTheReference() {
        #expect(SyncFrame.iWantLatest.encoded == [0x05, 0x01, 0, 0, 0, 0])
        #expect(SyncFrame.iWantSequence(0x0102).encoded == [0x05, 0x02, 0x02, 0x01, 0, 0])
        #expect(SyncFrame.iGotSequence(7, raw: [0xAA, 0xBB]).encoded == [0x07, 0x03, 7, 0, 0, 0, 0xAA, 0xBB])
        #expect(SyncFrame.endOfStream.encoded == [0x00])
    }

    @Test func decodesAcrossArbitraryChunks() throws {
        let raw = Fixture.alert(sequence: 3, type: .informational, payload: Fixture.varString("sync")).raw
        let frames: [SyncFrame] = [.iWantLatest, .iGotLatest(9, raw: raw), .iWantSequence(3), .iGotSequence(3, raw: raw), .unknown(type: 0x09), .endOfStream]
        let stream = frames.flatMap(\.encoded)
        for chunk in [1, 2, 7, 300, stream.count] {
            var decoder = SyncFrameDecoder()
            var decoded: [SyncFrame] = []
            var offset = 0
            while offset < stream.count {
                decoder.append(stream[offset ..< min(stream.count, offset + chunk)])
                offset += chunk
                while let frame = try decoder.next() { decoded.append(frame) }
            }
            #expect(decoded == frames, "chunk \(chunk)")
            #expect(decoder.bufferedCount == 0)
        }
        // The reference accepts a 1-byte IWantLatest body.
        #expect(try SyncFrame(body: [0x01]) == .iWantLatest)
    }

    /// §9.4: a huge declared length is refused as soon as it is read, before any body is buffered.
    @Test func oversizedAndShortFramesAreRefused() {
        var decoder = SyncFrameDecoder()
        decoder.append([0xFF, 0, 0, 0, 0, 0, 0, 0, 0x80])
        #expect(throws: SyncFrameError.frameTooLong(declared: 1 << 63, limit: SyncFrameDecoder.defaultLimit)) { try decoder.next() }
        var small = SyncFrameDecoder(limit: 10)
        small.append([0x0B])
        #expect(throws: SyncFrameError.frameTooLong(declared: 11, limit: 10)) { try small.next() }
        #expect(throws: SyncFrameError.bodyTooShort(type: 2, length: 3)) { try SyncFrame(body: [0x02, 0, 0]) }
        var partial = SyncFrameDecoder()
        partial.append([0xFD, 0x10])
        #expect((try? partial.next()) == .some(nil), "an incomplete length needs more bytes")
    }
}

@Suite struct SyncInitiatorTests {
    static func raw(_ sequence: UInt32) -> [UInt8] {
        Fixture.alert(sequence: sequence, type: .informational, payload: Fixture.varString("s\(sequence)")).raw
    }

    @Test func catchesUpOneSequenceAtATime() {
        var sync = SyncInitiator(localLatest: 4)
        #expect(sync.opening == .iWantLatest)
        #expect(sync.receive(.iGotLatest(6, raw: Self.raw(6))) == .send(.iWantSequence(5)))
        #expect(sync.receive(.iGotSequence(5, raw: Self.raw(5))) == .process(sequence: 5, raw: Self.raw(5)))
        #expect(sync.processed() == .send(.iWantSequence(6)))
        #expect(sync.receive(.iGotSequence(6, raw: Self.raw(6))) == .process(sequence: 6, raw: Self.raw(6)))
        #expect(sync.processed() == .close)
        #expect(sync.localLatest == 6)
    }

    @Test func aPeerThatIsNotAheadEndsTheSync() {
        var behind = SyncInitiator(localLatest: 10)
        #expect(behind.receive(.iGotLatest(3, raw: [])) == .close)
        var level = SyncInitiator(localLatest: 10)
        #expect(level.receive(.iGotLatest(10, raw: [])) == .close)
    }

    /// §9.5: an answer must be the sequence asked for, in the frame and in the alert itself.
    @Test func wrongAnswersDropThePeer() {
        var sync = SyncInitiator(localLatest: 4)
        _ = sync.receive(.iGotLatest(8, raw: []))
        guard case .dropPeer = sync.receive(.iGotSequence(7, raw: Self.raw(7))) else { Issue.record("answer for another sequence accepted"); return }
        var lying = SyncInitiator(localLatest: 4)
        _ = lying.receive(.iGotLatest(8, raw: []))
        guard case .dropPeer = lying.receive(.iGotSequence(5, raw: Self.raw(6))) else { Issue.record("alert with another sequence accepted"); return }
        var unasked = SyncInitiator(localLatest: 4)
        guard case .dropPeer = unasked.receive(.iGotSequence(5, raw: Self.raw(5))) else { Issue.record("unrequested alert accepted"); return }
        var eager = SyncInitiator(localLatest: 4)
        _ = eager.receive(.iGotLatest(8, raw: []))
        _ = eager.receive(.iGotSequence(5, raw: Self.raw(5)))
        guard case .dropPeer = eager.receive(.iGotSequence(5, raw: Self.raw(5))) else { Issue.record("second answer before processing accepted"); return }
    }
}

@Suite struct SyncResponderTests {
    @Test func servesLatestThenEachSequenceAndClosesAtTheLatest() {
        var responder = SyncResponder()
        let raw5 = SyncInitiatorTests.raw(5), raw6 = SyncInitiatorTests.raw(6)
        #expect(responder.receive(.iWantLatest) == .lookup(.latest))
        #expect(responder.answer(.latest, with: (6, raw6)) == .send(.iGotLatest(6, raw: raw6)))
        #expect(responder.receive(.iWantSequence(5)) == .lookup(.sequence(5)))
        #expect(responder.answer(.sequence(5), with: (5, raw5)) == .send(.iGotSequence(5, raw: raw5)))
        #expect(responder.answer(.sequence(6), with: (6, raw6)) == .sendAndClose(.iGotSequence(6, raw: raw6)))
    }

    @Test func missingAlertsAndTheGenesisAreNotServed() {
        var responder = SyncResponder()
        #expect(responder.answer(.latest, with: nil) == .send(.iGotLatest(0, raw: [])))
        #expect(responder.answer(.sequence(3), with: nil) == .close)
        #expect(responder.answer(.sequence(0), with: (0, [1, 2])) == .close)
        #expect(responder.answer(.sequence(4), with: (5, SyncInitiatorTests.raw(5))) == .close, "never serve another sequence than the one asked for")
        #expect(responder.receive(.iGotSequence(1, raw: [])) == .ignore)
        #expect(responder.receive(.endOfStream) == .close)
    }

    /// Our initiator and responder, wired back to back, sync a peer from 2 to 5.
    @Test func initiatorAndResponderInterlock() throws {
        let store: [UInt32: [UInt8]] = Dictionary(uniqueKeysWithValues: (1 ... 5).map { ($0, SyncInitiatorTests.raw($0)) })
        var initiator = SyncInitiator(localLatest: 2)
        var responder = SyncResponder()
        var toResponder = SyncFrameDecoder(), toInitiator = SyncFrameDecoder()
        toResponder.append(initiator.opening.encoded)
        var received: [UInt32] = []
        var closed = false
        for _ in 0 ..< 50 where !closed {
            while let frame = try toResponder.next() {
                var step = responder.receive(frame)
                if case .lookup(let lookup) = step {
                    let sequence: UInt32? = if case .sequence(let n) = lookup { n } else { store.keys.max() }
                    step = responder.answer(lookup, with: sequence.flatMap { n in store[n].map { (n, $0) } })
                }
                switch step {
                case .send(let reply), .sendAndClose(let reply): toInitiator.append(reply.encoded)
                default: break
                }
            }
            while let frame = try toInitiator.next() {
                var step = initiator.receive(frame)
                if case .process(let sequence, _) = step {
                    received.append(sequence)
                    step = initiator.processed()
                }
                switch step {
                case .send(let request): toResponder.append(request.encoded)
                case .close: closed = true
                default: Issue.record("unexpected step \(step)")
                }
            }
        }
        #expect(closed)
        #expect(received == [3, 4, 5])
        #expect(initiator.localLatest == 5)
    }
}

@Suite struct ReferenceWebhookTests {
    @Test func bodyAndTextsAreTheReferences() throws {
        let ban = Fixture.alert(sequence: 5, type: .banPeer, payload: Fixture.varString("10.0.0.0/8") + Fixture.varString("spam"))
        let payload = try AlertPayload(type: ban.type, bytes: ban.payload)
        let body = ReferenceWebhookBody(message: ban, payload: payload, processed: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(body), as: UTF8.self)
        #expect(json == #"{"alert_type":5,"raw":"0a31302e302e302e302f38047370616d","sequence":5,"text":"Sequence [`5`], alert type [`Ban Peer`], message: [`Banning peer [10.0.0.0/8]; reason [spam].`], processed: [`true`]"}"#)
        #expect(try JSONDecoder().decode(ReferenceWebhookBody.self, from: Data(json.utf8)) == body)

        let fund = try AlertPayload(type: .freezeUTXO, bytes: PayloadTests.fund(0xAB, vout: 1, start: 800_000, stop: 900_000, policy: 1))
        let doubleHex = HexEncoding.encode(Array(String(repeating: "ab", count: 32).utf8))
        #expect(fund.referenceText == "Freezing utxo id [\(doubleHex)]; vout: [1], enforcing at height start [800000], end [900000].")
        #expect(AlertPayload.informational(message: Array("hello".utf8)).referenceText == "Informational: hello")
        let keys = Fixture.signingKeys.prefix(2).map(\.publicKey)
        #expect(AlertPayload.setKeys(Array(keys)).referenceText == "Setting keys: \(keys[0].hex), \(keys[1].hex)")
        #expect(AlertPayload.invalidateBlock(blockHash: [0x01] + [UInt8](repeating: 0, count: 31), reason: "r").referenceText
            == "Invalidating block hash [\(String(repeating: "0", count: 62))01]; reason [r].")
    }
}
