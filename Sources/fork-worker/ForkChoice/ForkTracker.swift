import Wire
import WorkerRuntime
import SubstratePrimitives
import SubstrateRuntime

/// The fork-worker's tunables (INTERFACE.md `[alerts]` plus the tree's own limits).
package struct ForkSettings: Sendable, Equatable {
    package var window = 1000
    /// More missing blocks than this and a block is added as a disconnected new fork instead.
    package var gapLimit = 1000
    package var startupContextBlocks = 1000
    package var forkAlertDepth = 6
    package var sideForkRealertEvery = 10
    package var backwardsReorgDepth = 3

    package init() {}

    package init(thresholds: AlertThresholds, window: Int? = nil, gapLimit: Int? = nil) {
        self.window = window ?? max(1000, thresholds.startupContextBlocks + 1)
        self.gapLimit = gapLimit ?? self.window
        startupContextBlocks = thresholds.startupContextBlocks
        forkAlertDepth = thresholds.forkAlertDepth
        sideForkRealertEvery = max(1, thresholds.sideForkRealertEvery)
        backwardsReorgDepth = thresholds.backwardsReorgDepth
    }

    package func reorgNeedsAlert(_ reorg: Reorg) -> Bool {
        Int(max(reorg.oldDepth, reorg.newDepth)) >= forkAlertDepth || Int(reorg.backwardsDepth) >= backwardsReorgDepth
    }

    package func sideForkNeedsAlert(_ fork: SideFork) -> Bool {
        let depth = Int(fork.depth)
        return depth == forkAlertDepth || (depth > forkAlertDepth && depth % sideForkRealertEvery == 0)
    }
}

/// What the tracker asks its shell to do.
package enum TrackerAction: Equatable, Sendable {
    /// Fetch `count` headers walking back from `start` (inclusive), from any node.
    case fetchAncestors(start: BlockHash, count: UInt32)
    /// Ask the primary node for its canonical hash at the block's height.
    case checkCanonical(BlockLink)
    /// Hand the block to the alert-worker. `startsChain`: its parent was never handed over and never will be.
    case emit(BlockLink, CanonicalMode, startsChain: Bool)
    case reorg(Reorg, alert: Bool)
    case sideFork(SideFork, alert: Bool)
    /// The best tip moved (reported before any `reorg` it causes).
    case best(old: BlockLink?, new: BlockLink)
    /// Logged and counted; the tracker has already resynchronised.
    case inconsistency(ForkTreeError)
}

/// Turns headers seen in any order, with gaps and duplicates, into the ordered list of best-fork blocks
/// to check and the fork events (spec §2.8 and §2.10, without the ⚠ defects). Pure: the shell performs
/// the fetches it asks for and feeds the answers back.
package struct ForkTracker: Sendable {
    /// A block waiting for its parent.
    private struct Waiting: Sendable {
        var link: BlockLink
        var isBest: Bool
        /// An ancestor fetched for a block that leads to the best tip: no side-fork events, no canonical check.
        var quiet: Bool
    }

    /// Where start-up stands.
    package enum Phase: Equatable, Sendable {
        case waitingForFirstBlock
        case loadingContext(first: BlockLink)
        case running
    }

    package let settings: ForkSettings
    package private(set) var tree: ForkTree
    package private(set) var bestFork = BestFork()
    package private(set) var phase: Phase = .waitingForFirstBlock
    /// The alert-worker's cursor when this tracker started, so a restart does not re-check old blocks.
    private let startCursor: (hash: BlockHash, height: UInt64)?
    private var buffered: [(BlockLink, Bool)] = []
    /// Blocks waiting for their parent, by parent hash.
    private var waiting: [BlockHash: [Waiting]] = [:]
    private var waitingCount = 0
    private var pending: Set<BlockHash> = []
    private var fetching: Set<BlockHash> = []
    package private(set) var inconsistencies = 0
    private var changes = 0

    package init(settings: ForkSettings, cursor: (hash: BlockHash, height: UInt64)?) {
        self.settings = settings
        self.tree = ForkTree(window: settings.window)
        self.startCursor = cursor
    }

    package var best: BlockLink? { tree.best }

    // MARK: inputs

    /// A header arrived. `isBest`: from the primary node's new-heads subscription.
    package mutating func seen(_ link: BlockLink, isBest: Bool) -> [TrackerAction] {
        var actions: [TrackerAction] = []
        switch phase {
        case .waitingForFirstBlock:
            phase = .loadingContext(first: link)
            let count = min(UInt64(settings.startupContextBlocks), link.height)
            if count == 0 || link.parent == .zero {
                finishStartup(context: [], actions: &actions)
            } else {
                fetching.insert(link.parent)
                actions.append(.fetchAncestors(start: link.parent, count: UInt32(clamping: count)))
            }
        case .loadingContext:
            if buffered.count < 4 * settings.window { buffered.append((link, isBest)) }
        case .running:
            process(link, isBest: isBest, mode: .current, quiet: false, actions: &actions)
        }
        return actions
    }

    /// Headers fetched for `fetchAncestors(start:)`, in any order. Empty when the nodes had none.
    package mutating func ancestorsArrived(start: BlockHash, headers: [BlockLink]) -> [TrackerAction] {
        fetching.remove(start)
        var actions: [TrackerAction] = []
        let ascending = headers.sorted { ($0.height, $0.hash) < ($1.height, $1.hash) }
        if case .loadingContext = phase {
            finishStartup(context: ascending, actions: &actions)
            return actions
        }
        // Through `process`: a batch that does not reach a known block waits and asks for the next batch.
        let leadsToBest = waitingLeadsToBest(start)
        for link in ascending {
            process(link, isBest: false, mode: .replay, quiet: leadsToBest, actions: &actions)
        }
        if tree[start] == nil, !pending.contains(start) { dropWaiting(on: start) }
        return actions
    }

    /// No node could provide the ancestors; the blocks waiting on them are dropped (the next block retries).
    package mutating func ancestorsFailed(start: BlockHash) -> [TrackerAction] {
        fetching.remove(start)
        var actions: [TrackerAction] = []
        if case .loadingContext = phase {
            finishStartup(context: [], actions: &actions)
        } else {
            dropWaiting(on: start)
        }
        return actions
    }

    /// The primary's canonical hash at `link.height` (nil: unknown).
    package mutating func canonicalAnswer(for link: BlockLink, canonical: BlockHash?) -> [TrackerAction] {
        guard case .running = phase, let known = tree[link.hash] else { return [] }
        var actions: [TrackerAction] = []
        if canonical == link.hash, let change = tree.promote(link.hash) {
            apply(change, mode: .current, actions: &actions)
        } else if let best = tree.best, !tree.isAncestor(known, of: best) {
            // Not the primary's: the side-fork event that waited for the answer.
            let (depth, point) = tree.forkDepth(known)
            let side = SideFork(tip: known, forkPoint: point, depth: depth)
            actions.append(.sideFork(side, alert: settings.sideForkNeedsAlert(side)))
        }
        return actions
    }

    /// Best-fork blocks after `cursor`, to re-send after the alert-worker restarted or lost a message.
    package func replay(after cursor: (hash: BlockHash, height: UInt64)?) -> [BlockLink] {
        guard case .running = phase, let best = tree.best else { return [] }
        return bestFork.replay(after: cursor, best: best, in: tree)
    }

    // MARK: internals

    private mutating func finishStartup(context: [BlockLink], actions: inout [TrackerAction]) {
        guard case .loadingContext(let first) = phase else { return }
        phase = .running
        var bottom = first.height
        for (index, link) in context.enumerated() where link.height < first.height {
            if case .success = tree.add(link, isBest: true, reportSideFork: false, allowDisconnected: index == 0) {
                bottom = min(bottom, link.height)
            }
        }
        _ = tree.add(first, isBest: true, reportSideFork: false, allowDisconnected: true)
        bestFork.floor = bottom
        var mode: CanonicalMode = .startup
        if let cursor = startCursor {
            if bestFork.markChecked(through: cursor.hash, in: tree) { mode = .replay }
        }
        if let best = tree.best {
            let blocks = bestFork.take(upTo: best, in: tree)
            for (index, block) in blocks.enumerated() {
                let isLast = index == blocks.count - 1
                actions.append(.emit(block, isLast && block == first ? .current : mode,
                                     startsChain: index == 0 && !bestFork.isChecked(block.parent)))
            }
        }
        tree.prune()
        let replayed = buffered
        buffered = []
        for (link, isBest) in replayed { process(link, isBest: isBest, mode: .current, quiet: false, actions: &actions) }
    }

    private mutating func process(_ link: BlockLink, isBest: Bool, mode: CanonicalMode, quiet: Bool, actions: inout [TrackerAction]) {
        switch tree.admission(link) {
        case .alreadyKnown:
            if isBest, let change = tree.promote(link.hash) { apply(change, mode: mode, actions: &actions) }
        case .heightTooLow, .parentOfGenesis:
            return
        case .connected, .disconnected:
            // Higher than the best tip without extending it: only the primary can tell. Like the original, the
            // answer decides between a reorg and a side fork, so the side-fork event waits for it.
            let candidate = !isBest && !quiet && tree.best.map { link.height > $0.height && link.parent != $0.hash } ?? false
            add(link, isBest: isBest, mode: mode, quiet: quiet || candidate, disconnected: false, actions: &actions)
            if candidate, let best = tree.best, best != link { actions.append(.checkCanonical(link)) }
        case .missingParent:
            if let best = tree.best, link.height > best.height, link.height - best.height - 1 > UInt64(settings.gapLimit) {
                add(link, isBest: isBest, mode: mode, quiet: quiet, disconnected: true, actions: &actions)
                return
            }
            if pending.contains(link.hash) { return }
            guard waitingCount < 4 * settings.gapLimit + 64 else { return }
            waiting[link.parent, default: []].append(Waiting(link: link, isBest: isBest, quiet: quiet))
            waitingCount += 1
            pending.insert(link.hash)
            if !pending.contains(link.parent), !fetching.contains(link.parent) {
                // Enough to reach the best height plus a few blocks for a fork point; a deeper fork asks again.
                let gap = tree.best.map { link.height > $0.height ? link.height - $0.height : 0 } ?? 0
                let span = link.height - min(link.height, tree.minAllowedHeight)
                let count = max(1, min(UInt64(settings.gapLimit), span, gap + 16))
                fetching.insert(link.parent)
                actions.append(.fetchAncestors(start: link.parent, count: UInt32(clamping: count)))
            }
        }
    }

    private mutating func add(_ link: BlockLink, isBest: Bool, mode: CanonicalMode, quiet: Bool, disconnected: Bool,
                              actions: inout [TrackerAction]) {
        switch tree.add(link, isBest: isBest, reportSideFork: !quiet, allowDisconnected: disconnected) {
        case .success(let change):
            apply(change, mode: mode, actions: &actions)
        case .failure:
            return
        }
        // Blocks that were waiting for this one.
        if let children = waiting.removeValue(forKey: link.hash) {
            waitingCount -= children.count
            for child in children {
                pending.remove(child.link.hash)
                let childMode: CanonicalMode = mode == .startup ? .startup : (child.quiet ? .replay : .current)
                process(child.link, isBest: child.isBest, mode: childMode, quiet: child.quiet, actions: &actions)
            }
        }
    }

    private mutating func apply(_ change: TreeChange, mode: CanonicalMode, actions: inout [TrackerAction]) {
        if change.bestChanged, let new = change.newBest { actions.append(.best(old: change.oldBest, new: new)) }
        if let reorg = change.reorg {
            actions.append(.reorg(reorg, alert: mode != .startup && settings.reorgNeedsAlert(reorg)))
        }
        if let side = change.sideFork {
            actions.append(.sideFork(side, alert: mode != .startup && settings.sideForkNeedsAlert(side)))
        }
        if change.bestChanged, let best = change.newBest {
            let blocks = bestFork.take(upTo: best, in: tree)
            for (index, block) in blocks.enumerated() {
                let isLast = index == blocks.count - 1
                let blockMode: CanonicalMode = mode == .startup ? .startup : (isLast && block == change.added ? mode : .replay)
                actions.append(.emit(block, blockMode, startsChain: index == 0 && !bestFork.isChecked(block.parent)))
            }
        }
        tree.prune()
        bestFork.prune(below: tree.minAllowedHeight > UInt64(settings.window) ? tree.minAllowedHeight - UInt64(settings.window) : 0,
                       limit: 3 * settings.window + 64)
        changes &+= 1
        if let error = tree.checkInvariants(full: changes % 128 == 0) {
            inconsistencies += 1
            actions.append(.inconsistency(error))
            tree.reset(to: tree.best)
        }
    }

    private func waitingLeadsToBest(_ start: BlockHash) -> Bool {
        var stack = [start]
        var seen = 0
        while let hash = stack.popLast(), seen < 100_000 {
            seen += 1
            for child in waiting[hash] ?? [] {
                if child.isBest { return true }
                stack.append(child.link.hash)
            }
        }
        return false
    }

    private mutating func dropWaiting(on start: BlockHash) {
        var stack = [start]
        while let hash = stack.popLast() {
            for child in waiting.removeValue(forKey: hash) ?? [] {
                waitingCount -= 1
                pending.remove(child.link.hash)
                stack.append(child.link.hash)
            }
        }
    }
}
