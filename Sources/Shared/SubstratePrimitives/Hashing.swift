import CSodium
import CXXHash

/// The hash functions Substrate uses for block and extrinsic hashes (blake2b) and storage keys (twox, blake2b).
public enum SubstrateHash {
    /// libsodium must be initialised once before use; a lazy global gives thread-safe one-time initialisation.
    private static let sodiumReady: Bool = sodium_init() >= 0

    /// Unkeyed BLAKE2b with a digest of `outputLength` bytes (16...64).
    public static func blake2b<C: Collection>(_ data: C, outputLength: Int) -> [UInt8] where C.Element == UInt8 {
        _ = sodiumReady
        let length = min(max(outputLength, Int(crypto_generichash_BYTES_MIN)), Int(crypto_generichash_BYTES_MAX))
        var out = [UInt8](repeating: 0, count: length)
        // An empty array may have no storage; hash from a one-byte buffer with length 0 instead.
        var input = data as? [UInt8] ?? Array(data)
        let inputLength = input.count
        if input.isEmpty { input = [0] }
        input.withUnsafeBufferPointer { inPtr in
            out.withUnsafeMutableBufferPointer { outPtr in
                guard let outBase = outPtr.baseAddress, let inBase = inPtr.baseAddress else { return }
                _ = crypto_generichash(outBase, length, inBase, UInt64(inputLength), nil, 0)
            }
        }
        return out
    }

    public static func blake2b128<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 { blake2b(data, outputLength: 16) }
    public static func blake2b256<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 { blake2b(data, outputLength: 32) }
    public static func blake2b512<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 { blake2b(data, outputLength: 64) }

    /// xxHash64 with the given seed.
    public static func xxHash64<C: Collection>(_ data: C, seed: UInt64) -> UInt64 where C.Element == UInt8 {
        let input = data as? [UInt8] ?? Array(data)
        return input.withUnsafeBytes { raw in XXH64(raw.baseAddress, raw.count, seed) }
    }

    /// Substrate's twox hash of `outputLength` bytes: xxHash64 with seeds 0, 1, ... concatenated little-endian.
    public static func twox<C: Collection>(_ data: C, outputLength: Int) -> [UInt8] where C.Element == UInt8 {
        let input = data as? [UInt8] ?? Array(data)
        var out: [UInt8] = []
        out.reserveCapacity(outputLength)
        for seed in 0 ..< UInt64(max(outputLength / 8, 1)) {
            var h = xxHash64(input, seed: seed)
            for _ in 0 ..< 8 {
                out.append(UInt8(truncatingIfNeeded: h))
                h >>= 8
            }
        }
        return out
    }

    public static func twox64<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 { twox(data, outputLength: 8) }
    public static func twox128<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 { twox(data, outputLength: 16) }
    public static func twox256<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 { twox(data, outputLength: 32) }
}

/// Hex helpers for the `0x`-prefixed lowercase hex used throughout Substrate tooling.
public enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Lowercase hex with a `0x` prefix.
    public static func encode<C: Collection>(_ bytes: C, prefix: Bool = true) -> String where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2 + 2)
        if prefix { out.append(UInt8(ascii: "0")); out.append(UInt8(ascii: "x")) }
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex with or without `0x`; nil when the text is not an even number of hex digits.
    public static func decode(_ text: String) -> [UInt8]? {
        var utf8 = Array(text.utf8)
        if utf8.count >= 2, utf8[0] == UInt8(ascii: "0"), utf8[1] == UInt8(ascii: "x") || utf8[1] == UInt8(ascii: "X") {
            utf8.removeFirst(2)
        }
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0") ... UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a") ... UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A") ... UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
