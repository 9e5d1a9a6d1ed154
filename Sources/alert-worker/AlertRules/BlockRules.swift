import SubstrateRuntime
import SubstratePrimitives
import Store
import Wire
import WorkerRuntime

/// The alert rules as the intake sees them: called once per best-fork block, in chain order, and once per
/// fork event. They return the alerts to commit; the intake stores them together with the cursor in one
/// transaction, so a block's alerts are committed exactly once.
///
/// Alert ids must be deterministic (kind + chain + block hash + index; see ARCHITECTURE.md), so that a
/// fork event re-sent after a restart inserts nothing twice. A rule that keeps state across blocks must
/// persist it itself; `alerts(for:)` is never called twice for the same block hash.
package protocol BlockRules: AnyObject {
    /// The alerts of one best-fork block. Decoding (metadata per `block.block.specVersion`) is the rules' business.
    func alerts(for block: CanonicalBlock) throws -> [AlertPayload]
    /// The alerts of a fork event (Reorg, SideForkExtended); the fork-worker already applied the thresholds.
    func alerts(for event: ForkEvent) throws -> [AlertPayload]
    /// State to save in the same transaction as the alerts `alerts(for: block)` just returned (nil: nothing to save).
    func pendingState() -> [UInt8]?
    /// The last `alerts(for: block)` was not committed (already checked, or the store failed): undo its state change.
    func discardPending()
}

extension BlockRules {
    package func pendingState() -> [UInt8]? { nil }
    package func discardPending() {}
}

/// No rules yet: nothing is ever alerted, but every block is still checked and committed exactly once.
package final class NoRules: BlockRules {
    package init() {}
    package func alerts(for block: CanonicalBlock) throws -> [AlertPayload] { [] }
    package func alerts(for event: ForkEvent) throws -> [AlertPayload] { [] }
}

/// Hex with `0x`, as hashes appear in alerts and in the store.
package func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]("0x".utf8)
    out.reserveCapacity(2 + bytes.count * 2)
    for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
    return String(decoding: out, as: UTF8.self)
}
