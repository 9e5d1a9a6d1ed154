/// SS58 addresses: base58(prefix ++ account ++ checksum), checksum = blake2b-512("SS58PRE" ++ prefix ++ account)[0..<2].
public enum SS58 {
    /// Why an SS58 address was rejected.
    public enum DecodingError: Error, Sendable, Equatable, CustomStringConvertible {
        case invalidBase58Character
        case invalidLength(Int)
        case reservedPrefix
        case badChecksum

        public var description: String {
            switch self {
            case .invalidBase58Character: "not a base58 string"
            case .invalidLength(let n): "decoded to \(n) bytes, which is not a 32-byte account with a 1- or 2-byte prefix and checksum"
            case .reservedPrefix: "the first byte uses a reserved SS58 prefix range (>= 128)"
            case .badChecksum: "checksum mismatch: the address is mistyped or for another format"
            }
        }
    }

    /// Subspace / Autonomys mainnet prefix.
    public static let subspacePrefix: UInt16 = 6094

    private static let alphabet: [UInt8] = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)
    private static let reverse: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = Int8(i) }
        return table
    }()

    /// The 1- or 2-byte prefix encoding of a network identifier (0...16383; higher bits are ignored).
    public static func prefixBytes(_ prefix: UInt16) -> [UInt8] {
        let p = prefix & 0x3fff
        if p < 64 { return [UInt8(p)] }
        return [UInt8(((p & 0b1111_1100) >> 2) | 0b0100_0000), UInt8((p >> 8) | ((p & 0b11) << 6))]
    }

    /// Encodes an account (usually 32 bytes) for the given network prefix.
    public static func encode(_ account: [UInt8], prefix: UInt16) -> String {
        let payload = prefixBytes(prefix) + account
        let checksum = SubstrateHash.blake2b512(Array("SS58PRE".utf8) + payload).prefix(account.count == 32 || account.count == 33 ? 2 : 1)
        return base58(payload + checksum)
    }

    /// Decodes an SS58 address into its prefix and 32-byte account; the checksum is verified.
    public static func decode(_ address: String) throws(DecodingError) -> (prefix: UInt16, account: [UInt8]) {
        guard let raw = unbase58(address) else { throw .invalidBase58Character }
        guard let first = raw.first else { throw .invalidLength(0) }
        let prefix: UInt16
        let prefixLength: Int
        switch first {
        case 0 ..< 64:
            prefix = UInt16(first)
            prefixLength = 1
        case 64 ..< 128:
            guard raw.count >= 2 else { throw .invalidLength(raw.count) }
            let lower = (UInt16(first) << 2) | (UInt16(raw[1]) >> 6)
            let upper = UInt16(raw[1] & 0b0011_1111)
            prefix = (lower & 0xff) | (upper << 8)
            prefixLength = 2
        default:
            throw .reservedPrefix
        }
        guard raw.count == prefixLength + 32 + 2 else { throw .invalidLength(raw.count) }
        let payload = Array(raw[0 ..< prefixLength + 32])
        let checksum = SubstrateHash.blake2b512(Array("SS58PRE".utf8) + payload).prefix(2)
        guard Array(checksum) == Array(raw[(prefixLength + 32)...]) else { throw .badChecksum }
        return (prefix, Array(raw[prefixLength ..< prefixLength + 32]))
    }

    static func base58(_ bytes: [UInt8]) -> String {
        var zeros = 0
        while zeros < bytes.count, bytes[zeros] == 0 { zeros += 1 }
        var digits: [UInt8] = [] // base-58 digits, least significant first
        for byte in bytes[zeros...] {
            var carry = Int(byte)
            for i in digits.indices {
                carry += Int(digits[i]) << 8
                digits[i] = UInt8(carry % 58)
                carry /= 58
            }
            while carry > 0 {
                digits.append(UInt8(carry % 58))
                carry /= 58
            }
        }
        var out = [UInt8](repeating: alphabet[0], count: zeros)
        for d in digits.reversed() { out.append(alphabet[Int(d)]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func unbase58(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count <= 128 else { return nil }
        var zeros = 0
        while zeros < chars.count, chars[zeros] == alphabet[0] { zeros += 1 }
        var bytes: [UInt8] = [] // least significant first
        for c in chars[zeros...] {
            let value = reverse[Int(c)]
            guard value >= 0 else { return nil }
            var carry = Int(value)
            for i in bytes.indices {
                carry += Int(bytes[i]) * 58
                bytes[i] = UInt8(carry & 0xff)
                carry >>= 8
            }
            while carry > 0 {
                bytes.append(UInt8(carry & 0xff))
                carry >>= 8
            }
        }
        return [UInt8](repeating: 0, count: zeros) + bytes.reversed()
    }
}
