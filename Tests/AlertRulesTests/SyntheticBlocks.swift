import Foundation
@testable import AlertRules
@testable import alert_worker
@testable import devnode
@testable import Store
@testable import SubstrateRuntime
@testable import SubstratePrimitives
@testable import WorkerRuntime
@testable import Wire
import TestKit

/// Hand-made decoded blocks for the time-based rules (no metadata needed): a header with a Subspace
/// PreRuntime slot, a `Timestamp.set` extrinsic and FarmerVote events built as dynamic values.
enum SyntheticBlocks {
    static func hash(_ height: UInt64, fork: UInt8 = 0) -> [UInt8] {
        var h = [UInt8](repeating: fork, count: 32)
        for i in 0 ..< 8 { h[24 + i] = UInt8(truncatingIfNeeded: height >> (8 * UInt64(7 - i))) }
        return h
    }

    static func header(height: UInt64, parent: [UInt8], slot: UInt64?) -> BlockHeader {
        var digest: [DigestItem] = []
        if let slot {
            var data: [UInt8] = [0]
            for i in 0 ..< 8 { data.append(UInt8(truncatingIfNeeded: slot >> (8 * UInt64(i)))) }
            digest.append(.preRuntime(engine: BlockHeader.subspaceEngine, data: data))
        }
        return BlockHeader(parentHash: parent, number: height, stateRoot: hash(height, fork: 0xee), extrinsicsRoot: hash(height, fork: 0xdd), digest: digest)
    }

    static func timestampExtrinsic(_ ms: UInt64) -> DecodedExtrinsic {
        let call = ScaleValue.variant(ScaleVariant(typeId: 1, index: 3, name: "Timestamp", fields: [
            ScaleField(name: nil, value: .variant(ScaleVariant(typeId: 2, index: 0, name: "set", fields: [ScaleField(name: "now", value: .unsigned(UInt128(ms)))]))),
        ]))
        return DecodedExtrinsic(bytes: [4, 3, 0] + withUnsafeBytes(of: ms.littleEndian, Array.init), version: 4, signature: nil,
                                call: DecodedCall(call, callTypeId: 1)!)
    }

    static func event(_ index: Int, pallet: String, name: String, fields: [ScaleField], phase: EventPhase = .finalization) -> DecodedEvent {
        DecodedEvent(index: index, phase: phase, phaseValue: .variant(ScaleVariant(typeId: 9, index: 1, name: "Finalization", fields: [])),
                     palletIndex: 0, pallet: pallet, variantIndex: 0, name: name, fields: fields, topics: [], record: .bool(true))
    }

    /// A block at `height` whose parent is block `height - 1` of the same fork.
    static func block(height: UInt64, slot: UInt64? = nil, time: UInt64? = nil, received: UInt64? = nil, mode: CanonicalMode = .current,
                      votes: [[UInt8]] = [], events extra: [DecodedEvent] = [], specVersion: UInt32 = 6, fork: UInt8 = 0,
                      parentFork: UInt8? = nil) -> RuleBlock {
        let h = header(height: height, parent: hash(height &- 1, fork: parentFork ?? fork), slot: slot ?? (1000 + height))
        var events = votes.enumerated().map { i, pk in
            event(i, pallet: "Subspace", name: "FarmerVote", fields: [ScaleField(name: "public_key", value: .bytes(pk))])
        }
        for e in extra { events.append(event(events.count, pallet: e.pallet, name: e.name, fields: e.fields, phase: e.phase)) }
        let decoded = DecodedBlock(header: h, extrinsics: [timestampExtrinsic(time ?? (1_700_000_000_000 + height * 6000))], events: events)
        var b = RuleBlock(decoded: decoded, specVersion: specVersion, node: "ws://node-a:9944",
                          receivedAtMilliseconds: received ?? (mode == .current ? 1_700_000_000_000 + height * 6000 : nil), mode: mode)
        b.hash = hash(height, fork: fork) // readable hashes; the parent link uses the same scheme
        return b
    }
}
