import Foundation
import SubstrateRuntime
import SubstratePrimitives
import Wire
import WorkerRuntime
import HTTPClient

/// Builds long, realistic Chronos chains from the conformance blocks #1000–#1005: each generated block takes
/// one template's extrinsics and events (votes, sudo, large transfer, force transfer, slashes) with a fresh
/// header (height, parent, PreRuntime slot) and a re-encoded `Timestamp.set`. Lives in the testing kit so
/// that the rules tests and the bench-rules benchmark use the same code.
public struct ChainGenerator {
    public let templates: [(header: BlockHeader, extrinsics: [[UInt8]], events: [UInt8])]

    public init(conformanceSubspace directory: URL) throws {
        var t: [(BlockHeader, [[UInt8]], [UInt8])] = []
        for n in 1000 ... 1005 {
            let file = try JSONValue.parse([UInt8](try Data(contentsOf: directory.appendingPathComponent("chronos_synthetic_\(n).json"))))
            guard case .string(let header)? = file["header_scale"], case .array(let xs)? = file["extrinsics"],
                  case .string(let events)? = file["events_storage_hex"], let hb = Hex.decode(header), let eb = Hex.decode(events) else {
                throw CocoaError(.fileReadCorruptFile)
            }
            t.append((try BlockHeader(scale: hb), xs.compactMap { if case .string(let s) = $0 { Hex.decode(s) } else { nil } }, eb))
        }
        templates = t
    }

    /// `Timestamp.set(now)` re-encoded from the template's own (keeps pallet and call indices).
    public static func timestamp(_ template: [UInt8], now: UInt64) -> [UInt8] {
        var r = ScaleReader(template)
        _ = try? r.readLength()
        let head = (try? r.readBytes(3)) ?? [4, 3, 0] // version, pallet, call
        var body = ScaleWriter()
        body.writeBytes(head)
        body.writeCompact(now)
        var out = ScaleWriter()
        out.writeByteVector(body.bytes)
        return out.bytes
    }

    /// One generated block: `template` 0...5 (#1000...#1005), slot and timestamp given.
    public func block(height: UInt64, parent: [UInt8], slot: UInt64, time: UInt64, template: Int, mode: CanonicalMode = .current,
               startsChain: Bool = false) -> CanonicalBlock {
        let t = templates[template]
        var digest = t.header.digest
        if let i = digest.firstIndex(where: { if case .preRuntime = $0 { true } else { false } }), case .preRuntime(let engine, var data) = digest[i] {
            for b in 0 ..< 8 { data[1 + b] = UInt8(truncatingIfNeeded: slot >> (8 * UInt64(b))) }
            digest[i] = .preRuntime(engine: engine, data: data)
        }
        let header = BlockHeader(parentHash: parent, number: height, stateRoot: t.header.stateRoot, extrinsicsRoot: t.header.extrinsicsRoot, digest: digest)
        var extrinsics = t.extrinsics
        extrinsics[0] = Self.timestamp(extrinsics[0], now: time)
        let encoded = header.encoded
        return CanonicalBlock(mode: mode, height: height, parentHash: parent,
                              block: FetchedBlock(blockHash: SubstrateHash.blake2b256(encoded), header: encoded, extrinsics: extrinsics,
                                                  events: t.events, specVersion: 6),
                              startsChain: startsChain)
    }

    /// A chain of `count` blocks from height 2000: mostly vote blocks (#1000, #1004), with a sudo, a large transfer,
    /// a force transfer and slashes mixed in; slots 1 s apart and blocks 6 s apart, except a slow stretch.
    /// `alertEvery`: when set, the alerting templates (#1001–#1003, #1005) appear once every that many blocks
    /// and every other block is a vote block (a realistic density); by default they make up 6 of every 20.
    public func chain(count: Int, mode: CanonicalMode = .current, slowFrom: Int? = nil, alertEvery: Int? = nil) -> [CanonicalBlock] {
        var out: [CanonicalBlock] = []
        var parent = [UInt8](repeating: 0xab, count: 32)
        var slot: UInt64 = 10_000
        var time: UInt64 = 1_750_000_000_000
        let mix = [0, 4, 0, 0, 4, 0, 1, 0, 4, 2, 0, 0, 4, 3, 0, 5, 0, 4, 0, 0]
        for i in 0 ..< count {
            let slow = slowFrom.map { i >= $0 } ?? false
            slot += slow ? 4 : 6
            time += 6000
            var template = mix[i % mix.count]
            if let every = alertEvery { template = i % every == every - 1 ? [1, 2, 3, 5][(i / every) % 4] : 0 }
            let b = block(height: 2000 + UInt64(i), parent: parent, slot: slot, time: time, template: template, mode: mode, startsChain: i == 0)
            parent = b.block.blockHash
            out.append(b)
        }
        return out
    }
}
