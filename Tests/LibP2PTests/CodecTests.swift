import Foundation
import NIOCore
import Testing
@testable import LibP2P

func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
func unhex(_ text: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        out.append(UInt8(text[index..<next], radix: 16)!)
        index = next
    }
    return out
}

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

@Suite struct PeerIDTests {
    // Vectors from py-libp2p 0.8.1 (an independent implementation); the key is the peer-ids spec's Ed25519 example.
    @Test func specEd25519KeyGivesItsPeerID() throws {
        let key = try IdentityKey(seed: unhex("7e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d"))
        #expect(hex(key.encodedPublicKey) == "080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e")
        #expect(key.peerID.description == "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq")
        #expect(hex(key.fileBytes) == "080112407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e")
        let parsed = try PeerID("12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq")
        #expect(parsed == key.peerID)
        #expect(parsed.ed25519PublicKey?.rawRepresentation == key.publicKey.rawRepresentation)
    }

    @Test func olderSha256FormParses() throws {
        let id = try PeerID("QmaCpDMGvV2BGHeYERUEnRQAwe3N8SzbUtfsmvsqQLuvuJ")
        #expect(hex(id.bytes) == "1220b04a57d40eca138809f139a76b12044333c3740391c9bf1ce9d8e21a79210bfd")
        #expect(id.description == "QmaCpDMGvV2BGHeYERUEnRQAwe3N8SzbUtfsmvsqQLuvuJ")
        #expect(id.ed25519PublicKey == nil)
    }

    @Test func badPeerIDsAreTypedErrors() {
        #expect(throws: P2PDecodingError.self) { try PeerID("not-base58-0OIl") }
        #expect(throws: P2PDecodingError.self) { try PeerID(bytes: [0x12, 0x10] + [UInt8](repeating: 1, count: 16)) }
        #expect(throws: P2PDecodingError.self) { try PeerID(bytes: [0x00, 0x05, 1, 2]) }
        #expect(throws: P2PDecodingError.self) { try PeerID(bytes: [0x99, 0x01, 0x00]) }
    }

    @Test func base58Vectors() {
        #expect(Base58.encode(Array("hello world".utf8)) == "StV1DL6CwTryKyV")
        #expect(Base58.encode([0, 0, 1]) == "112")
        #expect(Base58.decode("StV1DL6CwTryKyV") == Array("hello world".utf8))
        #expect(Base58.decode("0") == nil)
    }
}

@Suite struct MultiaddrTests {
    // Binary forms from py-multiaddr 0.2.0.
    @Test(arguments: [
        ("/ip4/127.0.0.1/tcp/4001", "047f000001060fa1"),
        ("/ip6/2001:db8::1/tcp/443", "2920010db80000000000000000000000010601bb"),
        ("/dns4/example.com/tcp/443", "360b6578616d706c652e636f6d0601bb"),
        ("/dnsaddr/bootstrap.libp2p.io/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN",
         "3813626f6f7473747261702e6c69627032702e696fa50322122006b3608aa000274049eb28ad8e793a26ff6fab281a7d3bd77cd18eb745dfaabb"),
    ])
    func textAndBinaryRoundTrip(text: String, binary: String) throws {
        let address = try Multiaddr(text)
        #expect(hex(address.bytes) == binary)
        #expect(try Multiaddr(bytes: unhex(binary)) == address)
        #expect(address.description == text)
    }

    @Test func partsAndErrors() throws {
        let a = try Multiaddr("/ip4/10.1.2.3/tcp/9906/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq")
        #expect(a.peerID?.description == "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq")
        #expect(a.withoutPeerID.description == "/ip4/10.1.2.3/tcp/9906")
        #expect(a.tcpTarget?.host == "10.1.2.3")
        #expect(a.tcpTarget?.port == 9906)
        #expect(try Multiaddr("/dns6/h.example/tcp/1").tcpTarget?.host == "h.example")
        #expect(throws: P2PDecodingError.self) { try Multiaddr("/ip4/256.0.0.1/tcp/1") }
        #expect(throws: P2PDecodingError.self) { try Multiaddr("/ip4/1.2.3.4/tcp/70000") }
        #expect(throws: P2PDecodingError.self) { try Multiaddr("/udp/1") }
        #expect(throws: P2PDecodingError.self) { try Multiaddr("ip4/1.2.3.4") }
        #expect(throws: P2PDecodingError.self) { try Multiaddr("/ip4") }
        #expect(throws: P2PDecodingError.self) { try Multiaddr(bytes: [0x04, 1, 2]) }
    }
}

@Suite struct CIDTests {
    // The well-known CID of the empty raw block, and one computed by py-cid.
    @Test func rawSha256CIDs() throws {
        #expect(CID(rawContent: []).description == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")
        let topic = CID(topic: "bitcoin_alert_system")
        #expect(topic.description == "bafkreic6ka7zq77joqhco5lcy7fovys7omv35ddm4mnijevza6sivf6tta")
        #expect(try CID(topic.description) == topic)
        #expect(try CID(bytes: topic.bytes) == topic)
        #expect(topic.multihash.count == 34)
        #expect(throws: P2PDecodingError.self) { try CID("Qmfoo") }
    }
}

@Suite struct YamuxHeaderTests {
    @Test func encodeDecode() throws {
        let syn = YamuxHeader(type: .windowUpdate, flags: .syn, streamID: 1, length: 0)
        #expect(hex(syn.bytes) == "000100010000000100000000")
        let data = YamuxHeader(type: .data, flags: [.fin], streamID: 0x0102_0304, length: 262_144)
        #expect(hex(data.bytes) == "000000040102030400040000")
        #expect(try YamuxHeader(bytes: data.bytes) == data)
        #expect(throws: P2PDecodingError.self) { try YamuxHeader(bytes: unhex("010000000000000000000000")) }
        #expect(throws: P2PDecodingError.self) { try YamuxHeader(bytes: unhex("000400000000000000000000")) }
        #expect(throws: P2PDecodingError.self) { try YamuxHeader(bytes: unhex("000000100000000000000000")) }
    }
}

@Suite struct MultistreamCodecTests {
    @Test func messageFraming() throws {
        let encoded = Multistream.encode("/multistream/1.0.0")
        #expect(hex(encoded.readableBytesView) == "13" + hex(Array("/multistream/1.0.0\n".utf8)))
        #expect(try Multistream.decodeLine(ByteBuffer(string: "na\n")) == "na")
        #expect(throws: P2PDecodingError.self) { try Multistream.decodeLine(ByteBuffer(string: "na")) }
    }
}

@Suite struct NoiseTests {
    /// Both sides of XX with fixed keys agree on the transport keys, and the third message authenticates.
    @Test func handshakeWithFixedKeysAgrees() throws {
        let iStatic = try Curve25519Keys.agreement(0x01), rStatic = try Curve25519Keys.agreement(0x02)
        var initiator = NoiseXXHandshake(initiator: true, staticKey: iStatic, ephemeralKey: try Curve25519Keys.agreement(0x03))
        var responder = NoiseXXHandshake(initiator: false, staticKey: rStatic, ephemeralKey: try Curve25519Keys.agreement(0x04))
        let m1 = try initiator.writeMessage1()
        #expect(m1.count == 32)
        #expect(try responder.readMessage1(m1).isEmpty)
        let m2 = try responder.writeMessage2(payload: Array("hello".utf8))
        #expect(m2.count == 32 + 48 + 5 + 16)
        #expect(try initiator.readMessage2(m2) == Array("hello".utf8))
        let m3 = try initiator.writeMessage3(payload: Array("world".utf8))
        #expect(try responder.readMessage3(m3) == Array("world".utf8))
        #expect(initiator.remoteStatic?.rawRepresentation == rStatic.publicKey.rawRepresentation)
        #expect(responder.remoteStatic?.rawRepresentation == iStatic.publicKey.rawRepresentation)
        var (iSend, iReceive) = initiator.transportCiphers()
        var (rSend, rReceive) = responder.transportCiphers()
        let sealed = try iSend.encrypt(Array("ping".utf8), ad: [])
        #expect(try rReceive.decrypt(sealed, ad: []) == Array("ping".utf8))
        let back = try rSend.encrypt(Array("pong".utf8), ad: [])
        #expect(try iReceive.decrypt(back, ad: []) == Array("pong".utf8))
        // Deterministic with fixed keys: the same inputs give the same first two messages.
        var again = NoiseXXHandshake(initiator: false, staticKey: rStatic, ephemeralKey: try Curve25519Keys.agreement(0x04))
        _ = try again.readMessage1(m1)
        #expect(try again.writeMessage2(payload: Array("hello".utf8)) == m2)
        // A flipped bit in message 3 fails authentication.
        var tampered = NoiseXXHandshake(initiator: false, staticKey: rStatic, ephemeralKey: try Curve25519Keys.agreement(0x04))
        _ = try tampered.readMessage1(m1)
        _ = try tampered.writeMessage2(payload: Array("hello".utf8))
        var bad = m3
        bad[5] ^= 1
        #expect(throws: NoiseError.decryptionFailed) { try tampered.readMessage3(bad) }
    }

    @Test func protocolNameIsTheInitialHash() {
        let state = NoiseSymmetricState(protocolName: NoiseXXHandshake.protocolName)
        #expect(state.hash == Array("Noise_XX_25519_ChaChaPoly_SHA256".utf8))
    }

    @Test func payloadSignatureIsChecked() throws {
        let identity = try IdentityKey(seed: [UInt8](repeating: 7, count: 32))
        let staticKey = try Curve25519Keys.agreement(0x09)
        let payload = try NoisePayload.make(identity: identity, staticKey: staticKey.publicKey)
        #expect(try NoisePayload.verify(payload, remoteStatic: staticKey.publicKey) == identity.peerID)
        let otherStatic = try Curve25519Keys.agreement(0x0a)
        #expect(throws: NoiseError.badIdentitySignature) { try NoisePayload.verify(payload, remoteStatic: otherStatic.publicKey) }
    }
}

@Suite struct IdentityKeyFileTests {
    func scratchDirectory() -> String {
        let path = NSTemporaryDirectory() + "libp2p-key-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func createdOnceWithMode0600AndReused() throws {
        let dir = scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/state/p2p-identity.key"
        let first = try IdentityKey.loadOrCreate(at: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        #expect(bytes.count == 68)
        #expect(Array(bytes.prefix(4)) == [0x08, 0x01, 0x12, 0x40])
        let second = try IdentityKey.loadOrCreate(at: path)
        #expect(second.peerID == first.peerID)
    }

    @Test func refusesUnsafeModeAndBadFormat() throws {
        let dir = scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let open = dir + "/open.key"
        _ = FileManager.default.createFile(atPath: open, contents: Data(IdentityKey.generate().fileBytes), attributes: [.posixPermissions: 0o644])
        #expect(throws: IdentityKeyError.unsafeMode(path: open, mode: 0o644)) { try IdentityKey.loadOrCreate(at: open) }
        let garbage = dir + "/garbage.key"
        _ = FileManager.default.createFile(atPath: garbage, contents: Data("hello".utf8), attributes: [.posixPermissions: 0o600])
        #expect {
            try IdentityKey.loadOrCreate(at: garbage)
        } throws: { error in
            guard case .badFileFormat(let p, _) = error as? IdentityKeyError else { return false }
            return p == garbage
        }
        // The file was not replaced.
        #expect(FileManager.default.contents(atPath: garbage) == Data("hello".utf8))
        var mismatched = IdentityKey.generate().fileBytes
        mismatched[40] ^= 0xff
        #expect(throws: IdentityKeyError.self) { try IdentityKey(fileBytes: mismatched) }
    }
}
