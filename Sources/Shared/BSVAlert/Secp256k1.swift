import CSecp256k1

/// A libsecp256k1 context, created once. Every function used here takes it as `const`, which the
/// library documents as safe to share between threads.
final class Secp256k1Context: @unchecked Sendable {
    static let shared = Secp256k1Context()
    let pointer: OpaquePointer

    private init() {
        // A context that cannot be created means the process is out of memory: nothing an input can cause.
        guard let context = secp256k1_context_create(UInt32(SECP256K1_CONTEXT_NONE)) else {
            preconditionFailure("secp256k1_context_create failed (out of memory)")
        }
        pointer = context
    }
}

/// The secp256k1 group order n, big-endian.
let secp256k1Order: [UInt8] = HexEncoding.decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141") ?? []

/// True when the 32-byte big-endian `scalar` is in [1, n-1], the range ECDSA's r and s must be in.
func isValidScalar(_ scalar: [UInt8]) -> Bool {
    guard scalar.count == 32, scalar.contains(where: { $0 != 0 }) else { return false }
    return scalar.lexicographicallyPrecedes(secp256k1Order)
}

/// A secp256k1 public key that is known to be a point on the curve, kept in its 33-byte compressed form
/// (the form the key set stores and the reference compares addresses of).
public struct AlertPublicKey: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let compressed: [UInt8]

    /// Accepts a compressed (33-byte) or uncompressed (65-byte) key, in hex of either case.
    public init(hex: String) throws(AlertKeyError) {
        let trimmed = hex.trimmingWhitespace
        guard let bytes = HexEncoding.decode(trimmed) else { throw .notHex(String(trimmed)) }
        try self.init(bytes: bytes)
    }

    public init(bytes: [UInt8]) throws(AlertKeyError) {
        guard bytes.count == 33 || bytes.count == 65 else { throw .wrongLength(hex: HexEncoding.encode(bytes), length: bytes.count) }
        var point = secp256k1_pubkey()
        guard secp256k1_ec_pubkey_parse(Secp256k1Context.shared.pointer, &point, bytes, bytes.count) == 1 else {
            throw .notOnCurve(hex: HexEncoding.encode(bytes))
        }
        compressed = Self.serializeCompressed(point)
    }

    init(point: secp256k1_pubkey) {
        compressed = Self.serializeCompressed(point)
    }

    public var hex: String { HexEncoding.encode(compressed) }
    public var description: String { hex }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.compressed.lexicographicallyPrecedes(rhs.compressed) }

    private static func serializeCompressed(_ point: secp256k1_pubkey) -> [UInt8] {
        var point = point
        var output = [UInt8](repeating: 0, count: 33)
        var length = 33
        _ = secp256k1_ec_pubkey_serialize(Secp256k1Context.shared.pointer, &output, &length, &point, UInt32(SECP256K1_EC_COMPRESSED))
        return output
    }
}

/// Why a public key (from configuration, a key file or a Set Keys payload) cannot be used.
public enum AlertKeyError: Error, Hashable, Sendable, CustomStringConvertible {
    case notHex(String)
    case wrongLength(hex: String, length: Int)
    case notOnCurve(hex: String)
    case tooManyKeys(Int)
    case noKeys
    case duplicateKey(String)
    /// A key whose private key is published in the reference's `utils/keys.go`, offered as a mainnet trust anchor.
    case publicTestKeyOnMainnet(String)
    /// A signing key that is not 32 bytes of hex in [1, n-1]; its value is never repeated in the message.
    case invalidPrivateKey

    public var description: String {
        switch self {
        case .notHex(let text): "public key \"\(text.prefix(80))\" is not hex"
        case .wrongLength(let hex, let length): "public key \(hex.prefix(140)) is \(length) bytes; a secp256k1 key is 33 (compressed) or 65 (uncompressed)"
        case .notOnCurve(let hex): "public key \(hex) is not a point on secp256k1"
        case .tooManyKeys(let count): "\(count) active keys; at most \(AlertKeySet.maximumKeys) are allowed (the reference considers only the first 10)"
        case .noKeys: "the key set is empty: no alert could ever verify"
        case .duplicateKey(let hex): "public key \(hex) is listed twice; each key can count once towards the 3 signatures"
        case .invalidPrivateKey: "the private key is not 32 bytes of hex with a value in [1, n-1] (its value is not shown)"
        case .publicTestKeyOnMainnet(let hex): "public key \(hex) is one of the reference's public test keys (their private keys are published); it is refused as a mainnet trust anchor"
        }
    }
}

/// The outcome of checking one compact signature and recovering its public key.
enum SignatureRecovery: Equatable {
    case recovered(AlertPublicKey)
    case headerOutOfRange(UInt8)
    case scalarOutOfRange
    case recoveryFailed
}

enum Secp256k1Recovery {
    /// Recovers the public key that made `signature` over the 32-byte `digest`. The header and the range of
    /// r and s are checked before libsecp256k1 sees them (the reference's `bsvec` panics on r = 0 or r = n).
    static func recover(_ signature: CompactSignature, digest: [UInt8]) -> SignatureRecovery {
        let header = signature.header
        guard (31 ... 34).contains(header) else { return .headerOutOfRange(header) }
        guard isValidScalar(signature.r), isValidScalar(signature.s) else { return .scalarOutOfRange }
        let recid = Int32(header - 31)
        let context = Secp256k1Context.shared.pointer
        var parsed = secp256k1_ecdsa_recoverable_signature()
        let rs = Array(signature.bytes[1...])
        guard secp256k1_ecdsa_recoverable_signature_parse_compact(context, &parsed, rs, recid) == 1 else { return .scalarOutOfRange }
        var point = secp256k1_pubkey()
        guard digest.count == 32, secp256k1_ecdsa_recover(context, &point, &parsed, digest) == 1 else { return .recoveryFailed }
        return .recovered(AlertPublicKey(point: point))
    }
}

/// A private key that signs alert-system messages the way the reference's signer does (RFC 6979 nonce,
/// low-S, compressed-key header). For tests and the devnode's simulated alert network, which sign with
/// the reference's public test keys. The key is never printed: `description` shows only the public key.
public struct AlertSigningKey: Sendable, CustomStringConvertible {
    private let secret: [UInt8]
    public let publicKey: AlertPublicKey

    public init(privateKeyHex: String) throws(AlertKeyError) {
        guard let bytes = HexEncoding.decode(privateKeyHex.trimmingWhitespace), bytes.count == 32,
              secp256k1_ec_seckey_verify(Secp256k1Context.shared.pointer, bytes) == 1 else { throw .invalidPrivateKey }
        var point = secp256k1_pubkey()
        guard secp256k1_ec_pubkey_create(Secp256k1Context.shared.pointer, &point, bytes) == 1 else { throw .invalidPrivateKey }
        secret = bytes
        publicKey = AlertPublicKey(point: point)
    }

    public var description: String { "AlertSigningKey(public: \(publicKey.hex))" }

    /// The Bitcoin Signed Message signature of `message` (for an alert: the hex string of its data).
    public func signMessage(_ message: [UInt8]) -> CompactSignature {
        let digest = BitcoinSignedMessage.digest(message)
        let context = Secp256k1Context.shared.pointer
        var signature = secp256k1_ecdsa_recoverable_signature()
        // A valid secret key (checked in init) and a 32-byte digest cannot make signing fail.
        _ = secp256k1_ecdsa_sign_recoverable(context, &signature, digest, secret, nil, nil)
        var output = [UInt8](repeating: 0, count: 64)
        var recid: Int32 = 0
        _ = secp256k1_ecdsa_recoverable_signature_serialize_compact(context, &output, &recid, &signature)
        return CompactSignature(bytes: [UInt8(27 + 4 + recid)] + output)
    }

    /// Signs an alert's data the way the reference does: BSM over the lowercase hex string of `data`.
    public func sign(alertData data: [UInt8]) -> CompactSignature {
        signMessage(Array(HexEncoding.encode(data).utf8))
    }
}

/// Bitcoin Signed Message: SHA256d(varint(24) "Bitcoin Signed Message:\n" varint(len) message).
public enum BitcoinSignedMessage {
    static let magic = Array("Bitcoin Signed Message:\n".utf8)

    public static func digest(_ message: [UInt8]) -> [UInt8] {
        var writer = WireWriter()
        writer.append(varInt: UInt64(magic.count))
        writer.append(magic)
        writer.append(varInt: UInt64(message.count))
        writer.append(message)
        return DoubleSHA256.digest(writer.bytes)
    }

    /// The digest an alert's signatures are made over: BSM over the ASCII lowercase hex of `data`.
    public static func digest(alertData data: [UInt8]) -> [UInt8] {
        digest(Array(HexEncoding.encode(data).utf8))
    }
}

extension String {
    var trimmingWhitespace: Substring {
        var view = self[...]
        while let first = view.first, first.isWhitespace { view = view.dropFirst() }
        while let last = view.last, last.isWhitespace { view = view.dropLast() }
        return view
    }
}
