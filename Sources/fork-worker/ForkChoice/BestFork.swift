import Wire
import WorkerRuntime
import SubstratePrimitives
import SubstrateRuntime
/// Which blocks of the best fork have been handed to the alert-worker, and which must go next.
///
/// Given a new best tip, the unchecked blocks of its fork are emitted lowest first, each once: after a
/// reorg that includes side-fork blocks that were already in the tree (C2 and D2 of the spec's example),
/// which the original never checked.
package struct BestFork: Sendable {
    /// Handed over, by hash, with their heights for pruning.
    package private(set) var checked: [BlockHash: UInt64] = [:]
    /// Nothing below this height is ever emitted (the bottom of the start-up context).
    package var floor: UInt64 = 0

    package func isChecked(_ hash: BlockHash) -> Bool { checked[hash] != nil }

    /// The unchecked blocks of the fork that ends at `tip`, lowest first; they count as checked from now on.
    package mutating func take(upTo tip: BlockLink, in tree: ForkTree) -> [BlockLink] {
        let path = tree.path(from: tip) { checked[$0.hash] == nil && $0.height >= floor }
        for block in path { checked[block.hash] = block.height }
        return path
    }

    /// Marks `hash` and every ancestor of it in the tree as checked (the alert-worker's cursor at start-up).
    /// Returns false when `hash` is not in the tree.
    @discardableResult
    package mutating func markChecked(through hash: BlockHash, in tree: ForkTree) -> Bool {
        guard let link = tree[hash] else { return false }
        for block in tree.path(from: link, while: { _ in true }) { checked[block.hash] = block.height }
        return true
    }

    /// The best-fork blocks after the alert-worker's cursor, lowest first, to be re-sent. When the
    /// cursor is unknown to the tree, everything from its height up is re-sent (the intake drops what it has).
    package func replay(after cursor: (hash: BlockHash, height: UInt64)?, best: BlockLink, in tree: ForkTree) -> [BlockLink] {
        guard let cursor else { return tree.path(from: best) { $0.height >= floor } }
        if let link = tree[cursor.hash] {
            guard let ancestor = tree.commonAncestor(link, best) else {
                return tree.path(from: best) { $0.height >= floor }
            }
            return tree.path(from: best) { $0.height > ancestor.height }
        }
        return tree.path(from: best) { $0.height >= max(cursor.height, floor) }
    }

    /// Forgets checked blocks below `height`, once there are more than `limit` of them (amortised: the set
    /// is rebuilt only every `limit / 2` blocks or so).
    package mutating func prune(below height: UInt64, limit: Int) {
        if checked.count > limit {
            checked = checked.filter { $0.value >= height }
        }
    }
}
