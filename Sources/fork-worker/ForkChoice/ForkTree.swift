import Wire
import WorkerRuntime
import SubstratePrimitives
import SubstrateRuntime
/// Why a block cannot be added to the tree right now (spec §2.4 `can_add_block`).
package enum Admission: Equatable, Sendable {
    /// Its parent is in the tree.
    case connected
    /// It may be added without its parent: genesis, or exactly at the bottom of the window.
    case disconnected
    case alreadyKnown
    /// Below the window: ignored.
    case heightTooLow
    /// Its hash is all zeros: a bug somewhere upstream.
    case parentOfGenesis
    /// Its parent must be fetched first (gap filling).
    case missingParent
}

/// An internal inconsistency of the fork tree. The worker logs and counts it, then resynchronises;
/// it never ends the process.
package enum ForkTreeError: Error, Equatable, Sendable, CustomStringConvertible {
    case notAdmissible(BlockLink, Admission)
    case bestTipNotATip(BlockLink)
    case tipUnknown(BlockHash)
    case tipHasChildren(BlockHash)
    case heightIndexMismatch(blocks: Int, indexed: Int)

    package var description: String {
        switch self {
        case .notAdmissible(let link, let why): "block \(link) cannot be added: \(why)"
        case .bestTipNotATip(let link): "best tip \(link) is not a fork tip"
        case .tipUnknown(let hash): "tip \(hash) is not in the tree"
        case .tipHasChildren(let hash): "tip \(hash) has children"
        case .heightIndexMismatch(let blocks, let indexed): "\(blocks) blocks but \(indexed) in the height index"
        }
    }
}

/// A change of best tip that is not a plain extension: the old best block is not an ancestor of the new one.
package struct Reorg: Equatable, Sendable {
    package var oldBest: BlockLink
    package var newBest: BlockLink
    /// nil when the two forks do not meet inside the window.
    package var commonAncestor: BlockLink?
    /// Blocks of the old best fork above the common ancestor.
    package var oldDepth: UInt32
    /// Blocks of the new best fork above the common ancestor.
    package var newDepth: UInt32
    /// `oldDepth - newDepth` when the new best fork is shorter (a backwards reorg), else 0.
    package var backwardsDepth: UInt32 { oldDepth > newDepth ? oldDepth - newDepth : 0 }

    /// The point the event names as common ancestor; a fork that never met gets a zero hash one below its bottom.
    package var ancestorRef: BlockLink {
        commonAncestor ?? BlockLink(hash: .zero, parent: .zero,
                                    height: min(oldBest.height, newBest.height) - UInt64(min(oldDepth, newDepth)))
    }
}

/// A block added to a fork that is not the best one.
package struct SideFork: Equatable, Sendable {
    package var tip: BlockLink
    /// The block the fork branches from (possibly not in the tree when the fork is disconnected).
    package var forkPoint: BlockLink
    package var depth: UInt32
}

/// What adding one block did to the tree.
package struct TreeChange: Equatable, Sendable {
    package var added: BlockLink
    package var oldBest: BlockLink?
    package var newBest: BlockLink?
    package var reorg: Reorg?
    package var sideFork: SideFork?

    package var bestChanged: Bool { oldBest != newBest }
}

/// The bounded fork tree of spec §2: blocks by hash and by parent, fork tips, the best tip, pruning to
/// a window of heights. Pure and synchronous; it never traps on input.
///
/// Tips are the leaves of the tree. The best tip moves when the block is said to be best (the primary
/// node's new head, or a canonical check), or when a block extends the current best tip.
package struct ForkTree: Sendable {
    /// How many heights are kept below and including the best tip.
    package let window: UInt64
    package private(set) var blocks: [BlockHash: BlockLink] = [:]
    /// Children by parent hash; a disconnected block is listed under its unknown parent.
    package private(set) var children: [BlockHash: [BlockHash]] = [:]
    package private(set) var tips: Set<BlockHash> = []
    package private(set) var best: BlockLink?
    private var byHeight: [UInt64: [BlockHash]] = [:]
    private var lowestHeight: UInt64 = .max

    package init(window: Int) {
        self.window = UInt64(max(1, window))
    }

    package var count: Int { blocks.count }

    /// The lowest height a block may have: the bottom of the window below the best tip.
    package var minAllowedHeight: UInt64 {
        guard let best else { return 0 }
        return best.height + 1 > window ? best.height + 1 - window : 0
    }

    package func contains(_ hash: BlockHash) -> Bool { blocks[hash] != nil }
    package subscript(hash: BlockHash) -> BlockLink? { blocks[hash] }

    /// Spec §2.4.
    package func admission(_ link: BlockLink) -> Admission {
        if blocks[link.hash] != nil { return .alreadyKnown }
        if blocks[link.parent] != nil { return .connected }
        if best == nil || link.height == minAllowedHeight || link.parent == .zero { return .disconnected }
        if link.height < minAllowedHeight { return .heightTooLow }
        if link.hash == .zero { return .parentOfGenesis }
        return .missingParent
    }

    /// Whether `ancestor` is `block` or one of its ancestors inside the tree.
    package func isAncestor(_ ancestor: BlockLink, of block: BlockLink) -> Bool {
        if ancestor.height > block.height { return false }
        var current = block
        while current.height > ancestor.height {
            guard let parent = blocks[current.parent] else { return false }
            current = parent
        }
        return current.hash == ancestor.hash
    }

    /// Spec §2.5: whether one of the two blocks descends from the other.
    package func isOnSameFork(_ a: BlockLink, _ b: BlockLink) -> Bool {
        a.height >= b.height ? isAncestor(b, of: a) : isAncestor(a, of: b)
    }

    package func isOnBestFork(_ link: BlockLink) -> Bool {
        guard let best else { return false }
        return isOnSameFork(best, link)
    }

    /// The highest common ancestor inside the tree, or nil when the forks do not meet.
    package func commonAncestor(_ a: BlockLink, _ b: BlockLink) -> BlockLink? {
        var x = a, y = b
        while x.height > y.height { guard let p = blocks[x.parent] else { return nil }; x = p }
        while y.height > x.height { guard let p = blocks[y.parent] else { return nil }; y = p }
        while x.hash != y.hash {
            guard let px = blocks[x.parent], let py = blocks[y.parent] else { return nil }
            x = px; y = py
        }
        return x
    }

    /// Spec §2.6: how many blocks the fork of `link` has since it branched (or since its disconnected bottom),
    /// and the block it branches from.
    package func forkDepth(_ link: BlockLink) -> (depth: UInt32, forkPoint: BlockLink) {
        var depth: UInt32 = 1
        var current = link
        while true {
            let siblings = children[current.parent]?.count ?? 0
            guard siblings <= 1, let parent = blocks[current.parent] else {
                let point = blocks[current.parent] ?? BlockLink(hash: current.parent, parent: .zero,
                                                                 height: current.height > 0 ? current.height - 1 : 0)
                return (depth, point)
            }
            current = parent
            depth += 1
        }
    }

    /// The blocks from `link` down through its ancestors while `include` says so, lowest first.
    package func path(from link: BlockLink, while include: (BlockLink) -> Bool) -> [BlockLink] {
        var out: [BlockLink] = []
        var current: BlockLink? = blocks[link.hash] ?? link
        while let block = current, include(block) {
            out.append(block)
            current = blocks[block.parent]
        }
        return out.reversed()
    }

    /// The highest leaf at or below `link` (ties broken by hash, like spec's `BlockPosition` order).
    package func highestLeaf(from link: BlockLink) -> BlockLink {
        var bestLeaf = link
        var stack = [link.hash]
        while let hash = stack.popLast() {
            let kids = children[hash] ?? []
            if kids.isEmpty, let leaf = blocks[hash] {
                if (leaf.height, leaf.hash) > (bestLeaf.height, bestLeaf.hash) { bestLeaf = leaf }
            }
            stack.append(contentsOf: kids)
        }
        return bestLeaf
    }

    /// Spec §2.7: adds one block. `isBest` says the block is (or leads to) the best tip. With
    /// `reportSideFork` false a non-best block is added silently (ancestors of a best block being filled in).
    package mutating func add(_ link: BlockLink, isBest: Bool, reportSideFork: Bool = true,
                      allowDisconnected: Bool = false) -> Result<TreeChange, ForkTreeError> {
        let admission = admission(link)
        switch admission {
        case .connected, .disconnected: break
        case .missingParent where allowDisconnected: break
        default: return .failure(.notAdmissible(link, admission))
        }
        let oldBest = best
        blocks[link.hash] = link
        children[link.parent, default: []].append(link.hash)
        byHeight[link.height, default: []].append(link.hash)
        lowestHeight = min(lowestHeight, link.height)
        tips.remove(link.parent)
        if children[link.hash]?.isEmpty ?? true { tips.insert(link.hash) }

        if let current = best {
            if isBest {
                if !isAncestor(link, of: current) { best = highestLeaf(from: link) }
            } else if link.parent == current.hash {
                best = highestLeaf(from: link)
            }
        } else {
            best = highestLeaf(from: link)
        }

        var change = TreeChange(added: link, oldBest: oldBest, newBest: best)
        if let old = oldBest, let new = best, old != new, !isAncestor(old, of: new) {
            let ancestor = commonAncestor(old, new)
            let oldDepth = ancestor.map { old.height - $0.height } ?? UInt64(forkDepth(old).depth)
            let newDepth = ancestor.map { new.height - $0.height } ?? UInt64(forkDepth(new).depth)
            change.reorg = Reorg(oldBest: old, newBest: new, commonAncestor: ancestor,
                                 oldDepth: UInt32(clamping: oldDepth), newDepth: UInt32(clamping: newDepth))
        } else if reportSideFork, let new = best, !isAncestor(link, of: new) {
            let (depth, point) = forkDepth(link)
            change.sideFork = SideFork(tip: link, forkPoint: point, depth: depth)
        }
        return .success(change)
    }

    /// Makes `hash` (confirmed canonical by a node) lead to the best tip. nil when unknown or already so.
    package mutating func promote(_ hash: BlockHash) -> TreeChange? {
        guard let link = blocks[hash], let current = best, !isAncestor(link, of: current) else { return nil }
        let new = highestLeaf(from: link)
        best = new
        var change = TreeChange(added: link, oldBest: current, newBest: new)
        if !isAncestor(current, of: new) {
            let ancestor = commonAncestor(current, new)
            let oldDepth = ancestor.map { current.height - $0.height } ?? UInt64(forkDepth(current).depth)
            let newDepth = ancestor.map { new.height - $0.height } ?? UInt64(forkDepth(new).depth)
            change.reorg = Reorg(oldBest: current, newBest: new, commonAncestor: ancestor,
                                 oldDepth: UInt32(clamping: oldDepth), newDepth: UInt32(clamping: newDepth))
        }
        return change
    }

    /// Spec §2.9: drops every block below the window. Returns how many were removed.
    @discardableResult
    package mutating func prune() -> Int {
        let cutoff = minAllowedHeight
        guard lowestHeight < cutoff, lowestHeight != .max else { return 0 }
        var removed = 0
        var height = lowestHeight
        while height < cutoff {
            if let hashes = byHeight.removeValue(forKey: height) {
                for hash in hashes {
                    if let link = blocks.removeValue(forKey: hash) {
                        children.removeValue(forKey: link.parent)
                        tips.remove(hash)
                        removed += 1
                    }
                }
            }
            height += 1
        }
        lowestHeight = byHeight.isEmpty ? .max : cutoff
        return removed
    }

    /// Spec §2.7 step 5, as a value rather than a panic. Without `full`, only the best tip is checked (cheap
    /// enough for every block); the full walk over tips and the height index runs every so often.
    package func checkInvariants(full: Bool = true) -> ForkTreeError? {
        if let best, !tips.contains(best.hash) { return .bestTipNotATip(best) }
        if let best, !(children[best.hash]?.isEmpty ?? true) { return .tipHasChildren(best.hash) }
        guard full else { return nil }
        for tip in tips {
            guard blocks[tip] != nil else { return .tipUnknown(tip) }
            if !(children[tip]?.isEmpty ?? true) { return .tipHasChildren(tip) }
        }
        let indexed = byHeight.values.reduce(0) { $0 + $1.count }
        if indexed != blocks.count { return .heightIndexMismatch(blocks: blocks.count, indexed: indexed) }
        return nil
    }

    /// Starts over with only `link` (resynchronisation after an inconsistency).
    package mutating func reset(to link: BlockLink?) {
        self = ForkTree(window: Int(window))
        if let link { _ = add(link, isBest: true, allowDisconnected: true) }
    }
}
