/// One 57-byte record of a Freeze or Unfreeze payload: a TXO and the heights at which the node enforces it.
public struct FrozenFund: Hashable, Sendable {
    public static let recordLength = 57
    /// The txid in display/RPC byte order, exactly as carried (hex-encoded as-is, not reversed).
    public let txid: [UInt8]
    public let vout: UInt64
    /// The TXO is consensus-frozen for heights in [start, stop).
    public let enforceAtHeightStart: UInt64
    public let enforceAtHeightStop: UInt64
    /// Any non-zero byte means true.
    public let policyExpiresWithConsensus: Bool

    public var txidHex: String { HexEncoding.encode(txid) }
}

/// The decoded payload of an alert, one case per supported type (1–8), validated as the reference's
/// `Read` does, except that inputs on which the reference panics are rejected.
public enum AlertPayload: Hashable, Sendable {
    case informational(message: [UInt8])
    case freezeUTXO([FrozenFund])
    case unfreezeUTXO([FrozenFund])
    /// One full serialized confiscation transaction; bytes after it are ignored, as the reference does.
    case confiscateUTXO(enforceAtHeight: UInt64, transaction: [UInt8], ignoredTrailingBytes: Int)
    case banPeer(peer: String, reason: String)
    case unbanPeer(peer: String, reason: String)
    /// The block hash as carried: internal byte order (the reverse of the display hex).
    case invalidateBlock(blockHash: [UInt8], reason: String)
    /// Exactly 5 distinct compressed keys, each a valid curve point.
    case setKeys([AlertPublicKey])

    public init(type: AlertType, bytes: [UInt8]) throws(AlertPayloadError) {
        var reader = WireReader(bytes)
        switch type {
        case .informational:
            let length = try Self.varInt(&reader)
            guard let message = try? reader.readBytes(length: length) else { throw .messageLengthExceedsPayload }
            guard reader.isAtEnd else { throw .trailingBytes }
            self = .informational(message: message)
        case .freezeUTXO, .unfreezeUTXO:
            guard bytes.count >= FrozenFund.recordLength, bytes.count % FrozenFund.recordLength == 0 else {
                throw .fundsLength(bytes.count)
            }
            var funds: [FrozenFund] = []
            while !reader.isAtEnd {
                // The length check above makes every record complete; a short read cannot happen here.
                guard let txid = try? reader.readBytes(32), let vout = try? reader.readUInt64(), let start = try? reader.readUInt64(),
                      let stop = try? reader.readUInt64(), let policy = try? reader.readByte() else { throw .fundsLength(bytes.count) }
                funds.append(FrozenFund(txid: txid, vout: vout, enforceAtHeightStart: start, enforceAtHeightStop: stop, policyExpiresWithConsensus: policy != 0))
            }
            self = type == .freezeUTXO ? .freezeUTXO(funds) : .unfreezeUTXO(funds)
        case .confiscateUTXO:
            guard bytes.count >= 9, let height = try? reader.readUInt64() else { throw .confiscationTooShort(bytes.count) }
            let length = try Self.varInt(&reader)
            let available = reader.remaining
            guard let transaction = try? reader.readBytes(length: length) else { throw .transactionTruncated(declared: length, available: available) }
            self = .confiscateUTXO(enforceAtHeight: height, transaction: transaction, ignoredTrailingBytes: reader.remaining)
        case .banPeer, .unbanPeer:
            let peerLength = try Self.varInt(&reader)
            guard let peer = try? reader.readBytes(length: peerLength) else { throw .peerTruncated }
            let reasonLength = try Self.varInt(&reader)
            guard let reason = try? reader.readBytes(length: reasonLength) else { throw .reasonTruncated }
            let peerText = String(decoding: peer, as: UTF8.self)
            let reasonText = String(decoding: reason, as: UTF8.self)
            if type == .banPeer {
                // The reference allows trailing bytes after a ban, not after an unban.
                self = .banPeer(peer: peerText, reason: reasonText)
            } else {
                guard reader.isAtEnd else { throw .trailingBytes }
                self = .unbanPeer(peer: peerText, reason: reasonText)
            }
        case .invalidateBlock:
            guard let hash = try? reader.readBytes(32) else { throw .blockHashTruncated(bytes.count) }
            let reasonLength = try Self.varInt(&reader)
            guard reasonLength >= 1 else { throw .noReason }
            guard let reason = try? reader.readBytes(length: reasonLength) else { throw .reasonTruncated }
            guard reader.isAtEnd else { throw .trailingBytes }
            self = .invalidateBlock(blockHash: hash, reason: String(decoding: reason, as: UTF8.self))
        case .setKeys:
            guard bytes.count == 5 * 33 else { throw .setKeysLength(bytes.count) }
            var keys: [AlertPublicKey] = []
            for index in 0 ..< 5 {
                let key: AlertPublicKey
                do { key = try AlertPublicKey(bytes: Array(bytes[index * 33 ..< index * 33 + 33])) } catch { throw .setKeysKey(error) }
                guard !keys.contains(key) else { throw .setKeysKey(.duplicateKey(key.hex)) }
                keys.append(key)
            }
            self = .setKeys(keys)
        default:
            throw .unknownType(type.rawValue)
        }
    }

    private static func varInt(_ reader: inout WireReader) throws(AlertPayloadError) -> UInt64 {
        do { return try reader.readVarInt() } catch { throw .varIntTruncated }
    }

    public var type: AlertType {
        switch self {
        case .informational: .informational
        case .freezeUTXO: .freezeUTXO
        case .unfreezeUTXO: .unfreezeUTXO
        case .confiscateUTXO: .confiscateUTXO
        case .banPeer: .banPeer
        case .unbanPeer: .unbanPeer
        case .invalidateBlock: .invalidateBlock
        case .setKeys: .setKeys
        }
    }

    /// The display hex of an Invalidate Block's hash (what `invalidateblock` takes).
    static func displayHex(ofBlockHash hash: [UInt8]) -> String { HexEncoding.encode(hash.reversed()) }

    /// The decoded fields, named as in `conformance/bsv-alert` (and so in `alert-system inspect`).
    public var json: AlertJSON {
        switch self {
        case .informational(let message):
            return .fields([
                "ok": .bool(true), "message_length": .uint(UInt64(message.count)), "message_hex": .string(HexEncoding.encode(message)),
                "message_utf8": .optional(String(validating: message, as: UTF8.self)),
            ])
        case .freezeUTXO(let funds), .unfreezeUTXO(let funds):
            return .fields(["ok": .bool(true), "funds": .array(funds.map(\.payloadJSON))])
        case .confiscateUTXO(let height, let transaction, let ignored):
            return .fields([
                "ok": .bool(true), "enforceAtHeight": .uint(height), "tx_length": .uint(UInt64(transaction.count)),
                "tx_hex": .string(HexEncoding.encode(transaction)), "trailing_bytes_ignored": .uint(UInt64(ignored)),
            ])
        case .banPeer(let peer, let reason), .unbanPeer(let peer, let reason):
            return .fields(["ok": .bool(true), "peer": .string(peer), "reason": .string(reason)])
        case .invalidateBlock(let hash, let reason):
            return .fields(["ok": .bool(true), "block_hash": .string(Self.displayHex(ofBlockHash: hash)), "reason": .string(reason)])
        case .setKeys(let keys):
            return .fields(["ok": .bool(true), "keys": .array(keys.map { .string($0.hex) })])
        }
    }
}

extension FrozenFund {
    var payloadJSON: AlertJSON {
        .fields([
            "txOut": .fields(["txId": .string(txidHex), "vout": .uint(vout)]),
            "enforceAtHeight": .array([.fields(["start": .uint(enforceAtHeightStart), "stop": .uint(enforceAtHeightStop)])]),
            "policyExpiresWithConsensus": .bool(policyExpiresWithConsensus),
        ])
    }
}

/// Why a payload does not decode for its alert type. The texts follow the reference's errors where it has them.
public enum AlertPayloadError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Not one of types 1–8 (the reference dereferences a nil handler and panics on these).
    case unknownType(UInt32)
    case varIntTruncated
    case messageLengthExceedsPayload
    case trailingBytes
    case fundsLength(Int)
    case confiscationTooShort(Int)
    case transactionTruncated(declared: UInt64, available: Int)
    case peerTruncated
    case reasonTruncated
    /// Shorter than the 32-byte hash (the reference panics on these).
    case blockHashTruncated(Int)
    case noReason
    case setKeysLength(Int)
    case setKeysKey(AlertKeyError)

    public var description: String {
        switch self {
        case .unknownType(let type): "unknown alert type \(type) (reference: no handler; panics on the gossip and sync paths)"
        case .varIntTruncated: "EOF reading varint"
        case .messageLengthExceedsPayload: "message length exceeds payload"
        case .trailingBytes: "too many bytes in alert message"
        case .fundsLength(let length) where length < FrozenFund.recordLength:
            "freeze/unfreeze payload length \(length) is shorter than one 57-byte record"
        case .fundsLength(let length): "freeze/unfreeze payload length \(length) is not a multiple of 57"
        case .confiscationTooShort(let length): "confiscation payload of \(length) bytes is shorter than 9 (8-byte height and a varint)"
        case .transactionTruncated(let declared, let available):
            "confiscation transaction declares \(declared) bytes but only \(available) follow"
        case .peerTruncated: "peer shorter than its length"
        case .reasonTruncated: "reason shorter than its length"
        case .blockHashTruncated: "invalidate-block payload shorter than 32 bytes (reference panics)"
        case .noReason: "no reason message provided"
        case .setKeysLength(let length): "set-keys payload is \(length) bytes; it must be exactly 165 (5 compressed public keys)"
        case .setKeysKey(let error): "set-keys payload: \(error)"
        }
    }
}
