import Wire
import WorkerRuntime
import SubstratePrimitives
import SubstrateRuntime

/// A 32-byte block hash held as four words, so that the fork tree hashes and compares it without
/// touching the heap.
package struct BlockHash: Hashable, Comparable, Sendable, CustomStringConvertible {
    package var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    /// The parent hash of genesis.
    package static let zero = BlockHash(w0: 0, w1: 0, w2: 0, w3: 0)

    package init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0; self.w1 = w1; self.w2 = w2; self.w3 = w3
    }

    /// nil unless `bytes` is exactly 32 bytes long.
    package init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        func word(_ i: Int) -> UInt64 {
            var v: UInt64 = 0
            for k in 0 ..< 8 { v = v << 8 | UInt64(bytes[i * 8 + k]) }
            return v
        }
        self.init(w0: word(0), w1: word(1), w2: word(2), w3: word(3))
    }

    /// A synthetic hash for tests and benchmarks: distinct for distinct numbers, never zero.
    package init(synthetic n: UInt64) {
        self.init(w0: n &+ 1, w1: 0x5EED, w2: 0, w3: 0)
    }

    package var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        for (i, w) in [w0, w1, w2, w3].enumerated() {
            for k in 0 ..< 8 { out[i * 8 + k] = UInt8(truncatingIfNeeded: w >> (56 - 8 * UInt64(k))) }
        }
        return out
    }

    package static func < (a: BlockHash, b: BlockHash) -> Bool {
        (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3)
    }

    package var description: String {
        "0x" + bytes.prefix(4).map { String($0, radix: 16).leftPadded(2) }.joined() + "…"
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// A block's place in the chain: its hash, its parent's hash and its height (spec §2.1 `BlockLink`).
package struct BlockLink: Hashable, Sendable, CustomStringConvertible {
    package var hash: BlockHash
    package var parent: BlockHash
    package var height: UInt64

    package init(hash: BlockHash, parent: BlockHash, height: UInt64) {
        self.hash = hash
        self.parent = parent
        self.height = height
    }

    /// Decodes a SCALE header and hashes it (blake2b-256). nil when the header is malformed.
    package init?(header: [UInt8]) {
        // Only the parent hash and the number are needed here; the alert-worker decodes the rest.
        var reader = ScaleReader(header)
        guard let parentBytes = try? reader.readBytes(32, "Header.parent_hash"),
              let number = try? reader.readCompactU64("Header.number"), number <= UInt64(UInt32.max),
              let parent = BlockHash(bytes: parentBytes),
              let hash = BlockHash(bytes: SubstrateHash.blake2b256(header)) else { return nil }
        self.init(hash: hash, parent: parent, height: number)
    }

    package var ref: BlockRef { BlockRef(hash: hash.bytes, height: height) }

    package var description: String { "#\(height) \(hash)" }
}
