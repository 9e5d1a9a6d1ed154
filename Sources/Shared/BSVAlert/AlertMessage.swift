import Crypto

/// The `alert_type` field of an alert-system message. Unknown codes are kept, so that a message of an
/// unknown type can still be shown and rejected by name.
public struct AlertType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let informational = AlertType(rawValue: 1)
    public static let freezeUTXO = AlertType(rawValue: 2)
    public static let unfreezeUTXO = AlertType(rawValue: 3)
    public static let confiscateUTXO = AlertType(rawValue: 4)
    public static let banPeer = AlertType(rawValue: 5)
    public static let unbanPeer = AlertType(rawValue: 6)
    public static let invalidateBlock = AlertType(rawValue: 7)
    public static let setKeys = AlertType(rawValue: 8)
    /// Parsed by the reference with a one-signature tail and never handled; we reject it.
    public static let unfinishedDisable = AlertType(rawValue: 99)

    /// The reference's `Name()`: "" for any type it has no handler for.
    public var name: String {
        switch rawValue {
        case 1: "Informational"
        case 2: "Freeze"
        case 3: "Unfreeze"
        case 4: "Confiscate"
        case 5: "Ban Peer"
        case 6: "Unban Peer"
        case 7: "Invalidate Block"
        case 8: "Set Keys"
        default: ""
        }
    }

    /// Types 1–8, the ones with a payload format and an action.
    public var isSupported: Bool { (1 ... 8).contains(rawValue) }

    public var description: String { name.isEmpty ? "type \(rawValue)" : name }
}

/// An alert's hash: SHA256d of its `data` (header and payload; the signatures are not covered).
public struct AlertHash: Hashable, Sendable, CustomStringConvertible {
    /// SHA256d output in the order the hash function produced it.
    public let bytes: [UInt8]

    public init(of data: [UInt8]) {
        bytes = DoubleSHA256.digest(data)
    }

    /// Byte-reversed lowercase hex ("display order", like txids): the form the reference stores and shows.
    public var displayHex: String { HexEncoding.encode(bytes.reversed()) }
    public var description: String { displayHex }
}

enum DoubleSHA256 {
    static func digest(_ bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: Array(SHA256.hash(data: bytes))))
    }
}

/// A 65-byte compact recoverable signature as the alert carries it: header `h`, then r and s big-endian.
/// `h` = 27 + recid + 4 (the "compressed key" flag), so the only acceptable headers are 31...34.
public struct CompactSignature: Hashable, Sendable {
    public static let length = 65
    public let bytes: [UInt8]

    /// `bytes` must be exactly 65 long; the parser only ever slices 65-byte chunks.
    init(bytes: [UInt8]) {
        precondition(bytes.count == Self.length, "compact signatures are cut to 65 bytes by the parser")
        self.bytes = bytes
    }

    public init?(exactly bytes: [UInt8]) {
        guard bytes.count == Self.length else { return nil }
        self.bytes = bytes
    }

    public var header: UInt8 { bytes[0] }
    public var r: [UInt8] { Array(bytes[1 ..< 33]) }
    public var s: [UInt8] { Array(bytes[33 ..< 65]) }
    public var hex: String { HexEncoding.encode(bytes) }
}

/// Why raw bytes are not an alert-system message.
public enum AlertParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer bytes than the fixed 20-byte header (the reference checks only 16 and then panics on 16–19).
    case shorterThanHeader(length: Int)
    /// After the header there is no room for a payload of at least 2 bytes plus the signature block.
    case tooShort(bytesAfterHeader: Int, signatureBlock: Int)
    /// Longer than any gossip message can be (1 MiB), so no peer could have sent it legitimately.
    case tooLong(length: Int)

    public var description: String {
        switch self {
        case .shorterThanHeader(let length):
            return "alert shorter than 20 bytes (\(length))"
        case .tooShort(let after, let block):
            return "too short: \(after) bytes after the 20-byte header, need at least \(block + 2) (payload >= 2 bytes + \(block) signature bytes)"
        case .tooLong(let length):
            return "alert of \(length) bytes is longer than the \(AlertMessage.maximumLength)-byte limit of a gossip message"
        }
    }
}

/// The 20-byte fixed header: readable even when the rest of the message is not.
public struct AlertHeader: Hashable, Sendable {
    public static let length = 20
    /// Never validated by the reference; always 1 in practice.
    public let version: UInt32
    public let sequence: UInt32
    /// Unix seconds, u64 (the official docs wrongly say u32); never validated.
    public let timestamp: UInt64
    public let type: AlertType

    /// Nil when `raw` is shorter than 20 bytes.
    public init?(raw: [UInt8]) {
        var reader = WireReader(raw)
        guard let version = try? reader.readUInt32(), let sequence = try? reader.readUInt32(),
              let timestamp = try? reader.readUInt64(), let type = try? reader.readUInt32() else { return nil }
        self.init(version: version, sequence: sequence, timestamp: timestamp, type: AlertType(rawValue: type))
    }

    public init(version: UInt32, sequence: UInt32, timestamp: UInt64, type: AlertType) {
        self.version = version
        self.sequence = sequence
        self.timestamp = timestamp
        self.type = type
    }

    var encoded: [UInt8] {
        var writer = WireWriter()
        writer.append(uint32: version)
        writer.append(uint32: sequence)
        writer.append(uint64: timestamp)
        writer.append(uint32: type.rawValue)
        return writer.bytes
    }
}

/// One alert-system message, as gossiped and as carried in sync frames:
/// `version u32 | sequence u32 | timestamp u64 | type u32 | payload | signatures` (all LE). There is no
/// payload length: the signature block is a fixed-size tail (195 bytes = 3 × 65; 128 bytes for type 99).
public struct AlertMessage: Hashable, Sendable {
    /// gossipsub's default maximum message size; a sync frame carries one message, so it bounds those too.
    public static let maximumLength = 1 << 20
    public static let signatureBlockLength = 3 * CompactSignature.length
    /// The reference's tail for type 99: one signature and 63 bytes it silently drops.
    public static let type99TailLength = 128

    public let header: AlertHeader
    public let payload: [UInt8]
    public let signatures: [CompactSignature]

    public var version: UInt32 { header.version }
    public var sequence: UInt32 { header.sequence }
    public var timestamp: UInt64 { header.timestamp }
    public var type: AlertType { header.type }

    /// Header and payload: what the hash and the signatures cover.
    public var data: [UInt8] { header.encoded + payload }
    public var hash: AlertHash { AlertHash(of: data) }
    /// `data || signatures`, the form stored and served over sync (for type 99 without the dropped bytes).
    public var raw: [UInt8] { data + signatures.flatMap(\.bytes) }

    /// Parses like the reference's `ReadRaw`, with every length checked first (no input makes it trap).
    public init(raw: [UInt8]) throws(AlertParseError) {
        guard raw.count <= Self.maximumLength else { throw .tooLong(length: raw.count) }
        guard let header = AlertHeader(raw: raw) else { throw .shorterThanHeader(length: raw.count) }
        let tail = header.type == .unfinishedDisable ? Self.type99TailLength : Self.signatureBlockLength
        let afterHeader = raw.count - AlertHeader.length
        guard afterHeader >= tail + 2 else { throw .tooShort(bytesAfterHeader: afterHeader, signatureBlock: tail) }
        let payloadEnd = raw.count - tail
        self.header = header
        payload = Array(raw[AlertHeader.length ..< payloadEnd])
        signatures = (0 ..< tail / CompactSignature.length).map { index in
            let start = payloadEnd + index * CompactSignature.length
            return CompactSignature(bytes: Array(raw[start ..< start + CompactSignature.length]))
        }
    }

    /// Assembles a message from its parts (for signing and for tests).
    public init(header: AlertHeader, payload: [UInt8], signatures: [CompactSignature]) {
        self.header = header
        self.payload = payload
        self.signatures = signatures
    }
}
