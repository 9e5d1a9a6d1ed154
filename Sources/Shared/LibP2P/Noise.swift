import Crypto
import Foundation

/// A Noise CipherState (Noise spec §5.1) for ChaChaPoly: a key and a 64-bit nonce counter.
struct NoiseCipherState: Sendable {
    /// The 32-byte key (kept as bytes: swift-crypto's `SymmetricKey` is not `Sendable`), nil before `MixKey`.
    var keyBytes: [UInt8]?
    var nonce: UInt64 = 0

    init(key: [UInt8]? = nil, nonce: UInt64 = 0) {
        keyBytes = key
        self.nonce = nonce
    }

    static let tagLength = 16

    private func chachaNonce() throws -> ChaChaPoly.Nonce {
        var bytes = [UInt8](repeating: 0, count: 12)
        withUnsafeBytes(of: nonce.littleEndian) { for i in 0..<8 { bytes[4 + i] = $0[i] } }
        return try ChaChaPoly.Nonce(data: bytes)
    }

    mutating func encrypt(_ plaintext: some DataProtocol, ad: [UInt8]) throws -> [UInt8] {
        guard let keyBytes else { return Array(plaintext) }
        let key = SymmetricKey(data: keyBytes)
        guard nonce < UInt64.max else { throw NoiseError.nonceExhausted }
        let box = try ChaChaPoly.seal(plaintext, using: key, nonce: try chachaNonce(), authenticating: ad)
        nonce += 1
        return [UInt8](box.ciphertext) + [UInt8](box.tag)
    }

    mutating func decrypt(_ ciphertext: [UInt8], ad: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard let keyBytes else { return ciphertext }
        let key = SymmetricKey(data: keyBytes)
        guard ciphertext.count >= Self.tagLength else { throw .decryptionFailed }
        guard nonce < UInt64.max else { throw .nonceExhausted }
        do {
            let box = try ChaChaPoly.SealedBox(nonce: try chachaNonce(), ciphertext: ciphertext.dropLast(Self.tagLength),
                                               tag: ciphertext.suffix(Self.tagLength))
            let plain = try ChaChaPoly.open(box, using: key, authenticating: ad)
            nonce += 1
            return [UInt8](plain)
        } catch { throw .decryptionFailed }
    }
}

/// Noise SymmetricState (Noise spec §5.2) with SHA-256.
struct NoiseSymmetricState {
    var cipher = NoiseCipherState()
    var chainingKey: [UInt8]
    var hash: [UInt8]

    init(protocolName: String) {
        let name = Array(protocolName.utf8)
        hash = name.count <= 32 ? name + [UInt8](repeating: 0, count: 32 - name.count) : Array(SHA256.hash(data: name))
        chainingKey = hash
    }

    mutating func mixHash(_ data: [UInt8]) { hash = Array(SHA256.hash(data: hash + data)) }

    mutating func mixKey(_ input: [UInt8]) {
        let (ck, k) = Self.hkdf(chainingKey, input)
        chainingKey = ck
        cipher = NoiseCipherState(key: k, nonce: 0)
    }

    mutating func encryptAndHash(_ plaintext: [UInt8]) throws -> [UInt8] {
        let out = try cipher.encrypt(plaintext, ad: hash)
        mixHash(out)
        return out
    }

    mutating func decryptAndHash(_ ciphertext: [UInt8]) throws(NoiseError) -> [UInt8] {
        let out = try cipher.decrypt(ciphertext, ad: hash)
        mixHash(ciphertext)
        return out
    }

    /// The two transport CipherStates: initiator→responder, responder→initiator.
    func split() -> (NoiseCipherState, NoiseCipherState) {
        let (k1, k2) = Self.hkdf(chainingKey, [])
        return (NoiseCipherState(key: k1), NoiseCipherState(key: k2))
    }

    static func hkdf(_ chainingKey: [UInt8], _ input: [UInt8]) -> ([UInt8], [UInt8]) {
        let tempKey = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: chainingKey)))
        let out1 = Array(HMAC<SHA256>.authenticationCode(for: [0x01], using: tempKey))
        let out2 = Array(HMAC<SHA256>.authenticationCode(for: out1 + [0x02], using: tempKey))
        return (out1, out2)
    }
}

/// The three-message XX handshake (`Noise_XX_25519_ChaChaPoly_SHA256`) as a pure state machine: each call
/// takes or produces one handshake message's bytes (without the 2-byte frame length).
struct NoiseXXHandshake {
    static let protocolName = "Noise_XX_25519_ChaChaPoly_SHA256"
    let initiator: Bool
    var symmetric = NoiseSymmetricState(protocolName: protocolName)
    let staticKey: Curve25519.KeyAgreement.PrivateKey
    let ephemeralKey: Curve25519.KeyAgreement.PrivateKey
    var remoteEphemeral: Curve25519.KeyAgreement.PublicKey?
    var remoteStatic: Curve25519.KeyAgreement.PublicKey?

    init(initiator: Bool, staticKey: Curve25519.KeyAgreement.PrivateKey,
         ephemeralKey: Curve25519.KeyAgreement.PrivateKey = .init(), prologue: [UInt8] = []) {
        self.initiator = initiator
        self.staticKey = staticKey
        self.ephemeralKey = ephemeralKey
        symmetric.mixHash(prologue)
    }

    private static func dh(_ privateKey: Curve25519.KeyAgreement.PrivateKey, _ publicKey: Curve25519.KeyAgreement.PublicKey) throws -> [UInt8] {
        let secret = try privateKey.sharedSecretFromKeyAgreement(with: publicKey)
        return secret.withUnsafeBytes { Array($0) }
    }

    private static func publicKey(_ bytes: [UInt8]) throws(NoiseError) -> Curve25519.KeyAgreement.PublicKey {
        guard bytes.count == 32, let key = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: bytes) else { throw .malformedHandshake("bad X25519 key") }
        return key
    }

    /// Message 1 (initiator): `e`, payload.
    mutating func writeMessage1(payload: [UInt8] = []) throws -> [UInt8] {
        let e = [UInt8](ephemeralKey.publicKey.rawRepresentation)
        symmetric.mixHash(e)
        return e + (try symmetric.encryptAndHash(payload))
    }

    mutating func readMessage1(_ message: [UInt8]) throws -> [UInt8] {
        guard message.count >= 32 else { throw NoiseError.malformedHandshake("first handshake message is \(message.count) bytes, shorter than a key") }
        let re = Array(message.prefix(32))
        remoteEphemeral = try Self.publicKey(re)
        symmetric.mixHash(re)
        return try symmetric.decryptAndHash(Array(message.dropFirst(32)))
    }

    /// Message 2 (responder): `e, ee, s, es`, payload.
    mutating func writeMessage2(payload: [UInt8]) throws -> [UInt8] {
        guard let re = remoteEphemeral else { throw NoiseError.malformedHandshake("message 2 before message 1") }
        let e = [UInt8](ephemeralKey.publicKey.rawRepresentation)
        symmetric.mixHash(e)
        symmetric.mixKey(try Self.dh(ephemeralKey, re))
        let s = try symmetric.encryptAndHash([UInt8](staticKey.publicKey.rawRepresentation))
        symmetric.mixKey(try Self.dh(staticKey, re))
        return e + s + (try symmetric.encryptAndHash(payload))
    }

    mutating func readMessage2(_ message: [UInt8]) throws -> [UInt8] {
        guard message.count >= 32 + 48 else { throw NoiseError.malformedHandshake("second handshake message is \(message.count) bytes, too short") }
        let re = Array(message.prefix(32))
        let rePublic = try Self.publicKey(re)
        remoteEphemeral = rePublic
        symmetric.mixHash(re)
        symmetric.mixKey(try Self.dh(ephemeralKey, rePublic))
        let rs = try symmetric.decryptAndHash(Array(message[32..<80]))
        let rsPublic = try Self.publicKey(rs)
        remoteStatic = rsPublic
        symmetric.mixKey(try Self.dh(ephemeralKey, rsPublic))
        return try symmetric.decryptAndHash(Array(message.dropFirst(80)))
    }

    /// Message 3 (initiator): `s, se`, payload.
    mutating func writeMessage3(payload: [UInt8]) throws -> [UInt8] {
        guard let re = remoteEphemeral else { throw NoiseError.malformedHandshake("message 3 before message 2") }
        let s = try symmetric.encryptAndHash([UInt8](staticKey.publicKey.rawRepresentation))
        symmetric.mixKey(try Self.dh(staticKey, re))
        return s + (try symmetric.encryptAndHash(payload))
    }

    mutating func readMessage3(_ message: [UInt8]) throws -> [UInt8] {
        guard message.count >= 48 else { throw NoiseError.malformedHandshake("third handshake message is \(message.count) bytes, too short") }
        let rs = try symmetric.decryptAndHash(Array(message.prefix(48)))
        let rsPublic = try Self.publicKey(rs)
        remoteStatic = rsPublic
        symmetric.mixKey(try Self.dh(ephemeralKey, rsPublic))
        return try symmetric.decryptAndHash(Array(message.dropFirst(48)))
    }

    /// The transport ciphers as (send, receive) for this side.
    func transportCiphers() -> (send: NoiseCipherState, receive: NoiseCipherState) {
        let (c1, c2) = symmetric.split()
        return initiator ? (c1, c2) : (c2, c1)
    }
}

/// The libp2p handshake payload: the identity key and its signature over the Noise static key.
enum NoisePayload {
    static let signaturePrefix = Array("noise-libp2p-static-key:".utf8)

    static func make(identity: IdentityKey, staticKey: Curve25519.KeyAgreement.PublicKey) throws -> [UInt8] {
        var payload = P2p_Noise_NoiseHandshakePayload()
        payload.identityKey = Data(identity.encodedPublicKey)
        payload.identitySig = Data(try identity.sign(signaturePrefix + [UInt8](staticKey.rawRepresentation)))
        return try payload.serializedBytes()
    }

    /// Checks the remote payload and returns the remote peer ID it proves.
    static func verify(_ bytes: [UInt8], remoteStatic: Curve25519.KeyAgreement.PublicKey) throws(NoiseError) -> PeerID {
        let payload: P2p_Noise_NoiseHandshakePayload
        do { payload = try P2p_Noise_NoiseHandshakePayload(serializedBytes: bytes) } catch {
            throw .malformedHandshake("handshake payload is not a NoiseHandshakePayload protobuf")
        }
        let key: Curve25519.Signing.PublicKey
        do { key = try LibP2PKey.decodePublicKey([UInt8](payload.identityKey)) } catch { throw .malformedHandshake("identity key: \(error)") }
        guard key.isValidSignature(payload.identitySig, for: signaturePrefix + [UInt8](remoteStatic.rawRepresentation)) else {
            throw .badIdentitySignature
        }
        return PeerID(publicKey: key)
    }
}

/// Why a Noise handshake or transport frame failed.
public enum NoiseError: Error, Equatable, CustomStringConvertible {
    case malformedHandshake(String)
    case badIdentitySignature
    case peerIDMismatch(expected: String, actual: String)
    case decryptionFailed
    case nonceExhausted
    case frameTooLong(Int)

    public var description: String {
        switch self {
        case .malformedHandshake(let why): "Noise handshake: \(why)"
        case .badIdentitySignature: "Noise handshake: the peer's identity signature over its static key does not verify"
        case .peerIDMismatch(let expected, let actual): "Noise handshake: dialed peer \(expected) but the remote proved identity \(actual)"
        case .decryptionFailed: "Noise: a frame failed authentication (corrupted or forged)"
        case .nonceExhausted: "Noise: nonce counter exhausted; the connection must be re-established"
        case .frameTooLong(let n): "Noise: frame of \(n) bytes exceeds 65535"
        }
    }
}
