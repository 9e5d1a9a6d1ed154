import Crypto

/// A libp2p peer ID: the multihash of the protobuf `PublicKey` (identity multihash when it is at most
/// 42 bytes, as for Ed25519; sha2-256 otherwise). Written in base58btc (`12D3KooW…`, or `Qm…` for sha2-256).
public struct PeerID: Hashable, Sendable, CustomStringConvertible {
    /// The multihash bytes.
    public let bytes: [UInt8]

    static let identityCode: UInt8 = 0x00
    static let sha256Code: UInt8 = 0x12

    /// The peer ID of an Ed25519 public key.
    public init(publicKey: Curve25519.Signing.PublicKey) {
        let encoded = LibP2PKey.encodePublicKey(publicKey)
        bytes = [Self.identityCode] + UVarint.encode(UInt64(encoded.count)) + encoded
    }

    /// A peer ID from its multihash bytes (identity or sha2-256).
    public init(bytes: [UInt8]) throws(P2PDecodingError) {
        var cursor = ByteCursor(bytes)
        let code = try cursor.readVarint("peer ID multihash code")
        let length = try cursor.readVarint("peer ID multihash length")
        guard length <= 128 else { throw .tooLong(what: "peer ID digest", length: Int(length), limit: 128) }
        _ = try cursor.readBytes(Int(length), "peer ID digest")
        guard cursor.isAtEnd else { throw .invalid("peer ID has \(bytes.count - cursor.offset) bytes after its digest") }
        switch code {
        case UInt64(Self.identityCode): break
        case UInt64(Self.sha256Code): guard length == 32 else { throw .invalid("sha2-256 peer ID digest is \(length) bytes, not 32") }
        default: throw .invalid("peer ID multihash code 0x\(String(code, radix: 16)) is neither identity nor sha2-256")
        }
        self.bytes = bytes
    }

    /// Parses base58btc text (`12D3KooW…`, `Qm…`).
    public init(_ text: String) throws(P2PDecodingError) {
        guard let bytes = Base58.decode(text) else { throw .invalid("peer ID \"\(text.prefix(80))\" is not base58btc") }
        try self.init(bytes: bytes)
    }

    /// The base58btc text.
    public var description: String { Base58.encode(bytes) }

    /// The Ed25519 public key inside an identity peer ID, or nil for a sha2-256 peer ID or another key type.
    public var ed25519PublicKey: Curve25519.Signing.PublicKey? {
        guard bytes.first == Self.identityCode, bytes.count > 2 else { return nil }
        return try? LibP2PKey.decodePublicKey(Array(bytes[2...]))
    }

    /// Whether `publicKey` (protobuf-encoded) is the key this peer ID names.
    func matches(encodedPublicKey encoded: [UInt8]) -> Bool {
        if bytes.first == Self.identityCode { return Array(bytes.dropFirst(2)) == encoded && bytes.count == encoded.count + 2 }
        return bytes == [Self.sha256Code, 32] + Array(SHA256.hash(data: encoded))
    }
}

/// The libp2p protobuf key formats (peer-ids spec, "Keys"); only Ed25519 is supported.
enum LibP2PKey {
    /// `PublicKey{Type: Ed25519, Data: 32 bytes}`: `08 01 12 20` + key.
    static func encodePublicKey(_ key: Curve25519.Signing.PublicKey) -> [UInt8] {
        // PublicKey{Type: Ed25519 (field 1), Data: 32 bytes (field 2)}, in field order as go-libp2p writes it.
        [0x08, 0x01, 0x12, 0x20] + [UInt8](key.rawRepresentation)
    }

    static func decodePublicKey(_ bytes: [UInt8]) throws(P2PDecodingError) -> Curve25519.Signing.PublicKey {
        guard bytes.count <= 1024 else { throw .tooLong(what: "public key", length: bytes.count, limit: 1024) }
        let message: P2p_Crypto_PublicKey
        do { message = try P2p_Crypto_PublicKey(serializedBytes: bytes) } catch {
            throw .invalid("public key is not a libp2p PublicKey protobuf")
        }
        guard message.type == .ed25519 else { throw .invalid("public key type \(message.type) is not supported (only Ed25519)") }
        guard message.data.count == 32, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: message.data) else {
            throw .invalid("Ed25519 public key is \(message.data.count) bytes, not 32")
        }
        return key
    }
}
