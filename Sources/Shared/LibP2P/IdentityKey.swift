import Crypto
import Foundation

/// This host's Ed25519 identity, stored as the libp2p protobuf `PrivateKey` (`08 01 12 40` + seed‖public),
/// the format go-libp2p writes, so that one key file serves both.
public struct IdentityKey: Sendable {
    /// The 32-byte Ed25519 seed (kept as bytes: swift-crypto's key type is not `Sendable`). Never logged.
    private let seed: [UInt8]
    var privateKey: Curve25519.Signing.PrivateKey {
        // The seed was validated when this value was made.
        (try? Curve25519.Signing.PrivateKey(rawRepresentation: seed)) ?? Curve25519.Signing.PrivateKey()
    }

    /// The public half.
    public var publicKey: Curve25519.Signing.PublicKey { privateKey.publicKey }
    /// This identity's peer ID.
    public var peerID: PeerID { PeerID(publicKey: publicKey) }
    /// The protobuf `PublicKey` bytes (what identify and Noise send).
    var encodedPublicKey: [UInt8] { LibP2PKey.encodePublicKey(publicKey) }

    /// A fresh random identity.
    public static func generate() -> IdentityKey { IdentityKey(privateKey: .init()) }

    /// An identity from its 32-byte seed (tests use fixed seeds).
    public init(seed: [UInt8]) throws(IdentityKeyError) {
        guard seed.count == 32, (try? Curve25519.Signing.PrivateKey(rawRepresentation: seed)) != nil else {
            throw .badFormat("an Ed25519 seed is 32 bytes, not \(seed.count)")
        }
        self.seed = seed
    }

    init(privateKey: Curve25519.Signing.PrivateKey) { seed = [UInt8](privateKey.rawRepresentation) }

    /// The key file's bytes: `08 01 12 40` + seed(32) + public(32).
    public var fileBytes: [UInt8] {
        [0x08, 0x01, 0x12, 0x40] + seed + [UInt8](publicKey.rawRepresentation)
    }

    /// Decodes a key file's bytes; the public half must match the seed.
    public init(fileBytes bytes: [UInt8]) throws(IdentityKeyError) {
        guard bytes.count == 68, bytes.starts(with: [0x08, 0x01, 0x12, 0x40]) else {
            throw .badFormat("expected the 68-byte libp2p Ed25519 PrivateKey protobuf (08 01 12 40 + seed + public key), found \(bytes.count) bytes starting \(bytes.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " "))")
        }
        try self.init(seed: Array(bytes[4..<36]))
        guard [UInt8](publicKey.rawRepresentation) == Array(bytes[36..<68]) else {
            throw .badFormat("the public key stored in the file does not belong to its seed")
        }
    }

    /// Signs `message` with the identity key.
    func sign(_ message: [UInt8]) throws -> [UInt8] { [UInt8](try privateKey.signature(for: message)) }

    /// Loads the key at `path`, or creates it (mode 0600, parent directory 0700 when missing) when no file exists.
    /// A file readable by group or others, or not in the libp2p format, is refused rather than replaced.
    public static func loadOrCreate(at path: String) throws(IdentityKeyError) -> IdentityKey {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFREG else { throw .notARegularFile(path) }
            let mode = info.st_mode & 0o777
            guard mode & 0o077 == 0 else { throw .unsafeMode(path: path, mode: UInt32(mode)) }
            guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path: path, reason: "cannot read the file") }
            do { return try IdentityKey(fileBytes: [UInt8](data)) } catch { throw .badFileFormat(path: path, error.description) }
        }
        guard errno == ENOENT else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        let key = generate()
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch { throw .unwritable(path: path, reason: "cannot create its directory: \(error)") }
        }
        // O_EXCL: two processes starting at once cannot both create (and one overwrite) the key.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { return try loadOrCreate(at: path) }
            throw .unwritable(path: path, reason: String(cString: strerror(errno)))
        }
        let bytes = key.fileBytes
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced else {
            unlink(path)
            throw .unwritable(path: path, reason: "short write")
        }
        return key
    }
}

/// Why the identity key file could not be used.
public enum IdentityKeyError: Error, Equatable, CustomStringConvertible {
    case badFormat(String)
    case badFileFormat(path: String, String)
    case unsafeMode(path: String, mode: UInt32)
    case notARegularFile(String)
    case unreadable(path: String, reason: String)
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case .badFormat(let why): "identity key: \(why)"
        case .badFileFormat(let path, let why): "identity key file \(path): \(why); move it away to have a new key created, or restore the right file"
        case .unsafeMode(let path, let mode): "identity key file \(path) has mode \(String(mode, radix: 8)); it must not be readable by others: chmod 600 \(path)"
        case .notARegularFile(let path): "identity key path \(path) is not a regular file"
        case .unreadable(let path, let reason): "cannot read identity key file \(path): \(reason)"
        case .unwritable(let path, let reason): "cannot create identity key file \(path): \(reason)"
        }
    }
}
