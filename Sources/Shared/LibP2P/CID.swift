import Crypto

/// A CIDv1 with the raw codec and a sha2-256 multihash: the key under which topic providers are announced in
/// the DHT (`CIDv1(raw, sha2-256(UTF-8 topic))`).
public struct CID: Hashable, Sendable, CustomStringConvertible {
    /// The 32-byte sha2-256 digest.
    public let digest: [UInt8]

    /// The CID of `content`'s sha2-256 hash.
    public init(rawContent content: [UInt8]) { digest = Array(SHA256.hash(data: content)) }

    /// The CID a topic is provided under.
    public init(topic: String) { self.init(rawContent: Array(topic.utf8)) }

    /// The multihash `12 20 ‖ digest` (what Kademlia provider messages carry as their key).
    public var multihash: [UInt8] { [0x12, 0x20] + digest }

    /// The binary CID: `01 (version) 55 (raw) ‖ multihash`.
    public var bytes: [UInt8] { [0x01, 0x55] + multihash }

    /// Parses the binary CID; only CIDv1, raw, sha2-256 is accepted.
    public init(bytes: [UInt8]) throws(P2PDecodingError) {
        guard bytes.count == 36, bytes.starts(with: [0x01, 0x55, 0x12, 0x20]) else {
            throw .invalid("not a CIDv1 with the raw codec and a sha2-256 multihash (01 55 12 20 + 32 bytes)")
        }
        digest = Array(bytes[4...])
    }

    /// The multibase base32 text (`bafkrei…`).
    public var description: String { "b" + Base32.encode(bytes) }

    /// Parses `b…` base32 text.
    public init(_ text: String) throws(P2PDecodingError) {
        guard text.hasPrefix("b"), text.count < 100, let bytes = Base32.decode(String(text.dropFirst())) else {
            throw .invalid("CID \"\(text.prefix(80))\" is not multibase base32 (b…)")
        }
        try self.init(bytes: bytes)
    }
}
