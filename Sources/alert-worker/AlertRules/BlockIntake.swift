import Foundation
import Logging
import SubstrateRuntime
import SubstratePrimitives
import Store
import Wire
import WorkerRuntime

/// The alert-worker's durable intake: checks each best-fork block exactly once and in chain order, no
/// matter what the fork-worker (re)sends. One store transaction per block holds the block's alerts, the
/// "checked up to" cursor and the block's hash in the checked-blocks set.
package final class BlockIntake {
    /// What became of one delivered block.
    package enum Outcome: Equatable {
        /// Checked and committed; `newAlerts` rows were added (the doorbell rings when > 0).
        case committed(newAlerts: Int, lastRowID: Int64)
        /// Checked before (a replay or a duplicate): skipped.
        case alreadyChecked
        /// Its parent has not been checked and it does not start a chain: refused, to be re-sent in order.
        case outOfOrder
    }

    private let store: AlertStore
    private let rules: any BlockRules
    private let logger: Logger
    /// Checked hashes are kept (in the store and here) for this many heights below the highest.
    package let window: UInt64
    private var checked: [String: UInt64] = [:]
    package private(set) var cursor: StoreCursor?

    package init(store: AlertStore, rules: any BlockRules, window: Int, logger: Logger) throws(StoreError) {
        self.store = store
        self.rules = rules
        self.window = UInt64(max(16, window))
        self.logger = logger
        cursor = try store.cursor(named: AlertStore.alertWorkerCursor)
        for row in try store.checkedBlocks() { checked[row.hash] = row.height }
    }

    package func isChecked(hash: [UInt8]) -> Bool { checked[hexString(hash)] != nil }

    package func receive(_ block: CanonicalBlock) throws -> Outcome {
        let hash = hexString(block.block.blockHash)
        if checked[hash] != nil { return .alreadyChecked }
        let parent = hexString(block.parentHash)
        guard block.startsChain || checked.isEmpty || checked[parent] != nil else {
            logger.info("block arrived before its parent was checked; waiting for the re-send",
                        metadata: ["height": "\(block.height)", "hash": "\(hash)"])
            return .outOfOrder
        }
        let alerts = try rules.alerts(for: block)
        let next = StoreCursor(name: AlertStore.alertWorkerCursor, height: block.height, hash: hash)
        let top = max(block.height, checked.values.max() ?? 0)
        let pruneBelow = top > 2 * window ? top - 2 * window : 0
        let committed: CommitResult?
        do {
            // The rules' de-dup state rides in the same transaction as the alerts and the cursor.
            committed = try store.commitCheckedBlock(hash: hash, height: block.height, alerts: alerts, cursor: next,
                                                     pruneBelowHeight: pruneBelow, ruleState: rules.pendingState())
        } catch {
            rules.discardPending()
            throw error
        }
        guard let result = committed else {
            rules.discardPending()
            checked[hash] = block.height
            return .alreadyChecked
        }
        checked[hash] = block.height
        if pruneBelow > 0, checked.count > Int(3 * window) { checked = checked.filter { $0.value >= pruneBelow } }
        cursor = next
        return .committed(newAlerts: result.inserted.count, lastRowID: result.lastRowID)
    }

    /// Fork events carry no cursor; their alert ids make a re-sent event insert nothing.
    package func receive(_ event: ForkEvent) throws -> Outcome {
        let alerts = try rules.alerts(for: event)
        guard !alerts.isEmpty else { return .committed(newAlerts: 0, lastRowID: 0) }
        let result = try store.insertAlerts(alerts)
        return .committed(newAlerts: result.inserted.count, lastRowID: result.lastRowID)
    }

    /// The report the fork-worker replays from.
    package func report(instanceID: UInt64, nowMilliseconds: UInt64) -> CursorReport {
        CursorReport(instanceID: instanceID, checkedHeight: cursor?.height,
                     checkedHash: cursor.flatMap { hexBytes($0.hash) }, observedAtMilliseconds: nowMilliseconds)
    }
}

/// Bytes from `0x…` hex; nil when malformed.
package func hexBytes(_ text: String) -> [UInt8]? {
    var digits = Substring(text)
    if digits.hasPrefix("0x") { digits = digits.dropFirst(2) }
    guard digits.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(digits.count / 2)
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        guard let byte = UInt8(digits[index ..< next], radix: 16) else { return nil }
        out.append(byte)
        index = next
    }
    return out
}
