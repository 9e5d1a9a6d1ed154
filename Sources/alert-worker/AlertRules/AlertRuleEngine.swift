import Foundation
import SubstrateRuntime
import SubstratePrimitives
import Store
import Wire
import WorkerRuntime

/// Every alert rule of spec §1–§4 as one pure value: blocks, fork events, node heights and clock ticks go in,
/// alerts come out. Time is always a parameter. `state` is `Codable` and is saved in the same transaction as
/// the alerts and cursor of each block, so a restart neither re-alerts nor forgets an open stall.
package struct AlertRuleEngine: Sendable {
    /// Everything the rules carry from one input to the next.
    package struct State: Sendable, Equatable, Codable {
        /// The run whose Startup alert was raised (one Startup per supervisor run, not per worker restart).
        package var startupRun: String?
        package var gap = GapMonitor()
        package var slot = SlotMonitor()
        package var farmer = FarmerMonitor()
        package var stall = StallMonitor()
        package var sideForks = SideForkBook()
        /// Spec version of the previous best-fork block, and whether it carried System.CodeUpdated.
        package var lastSpecVersion: UInt32?
        package var codeUpdatedAtPrevious = false
        /// A node-level BlockResumed went out since the previous best-fork block (the chain-level one is then a duplicate).
        package var nodeResumedSinceLastBlock = false
        /// The last block checked (the cursor), for the intake's replay check.
        package var lastChecked: BlockStamp?
        /// Node verdicts as last alerted (isolation and connectivity episodes); nil until the first verdict.
        package var health: NodeHealthBook?
    }

    /// What one input produced: alerts to store, and duplicates that are counted and logged but never stored.
    package struct Outcome: Sendable {
        package var alerts: [AlertPayload] = []
        package var suppressed: [AlertPayload] = []
    }

    package var state = State()
    package var factory: AlertFactory
    /// This supervisor run (Startup is raised once per run id); `CHAIN_ALERTER_RUN_ID` or the worker's start time.
    package var runID: String
    /// Every node URL, for the Startup text.
    package var nodes: [String]

    package init(network: AlertNetwork, instance: String, runID: String, nodes: [String] = []) {
        self.factory = AlertFactory(network: network, instance: instance)
        self.runID = runID
        self.nodes = nodes
    }

    package var network: AlertNetwork {
        get { factory.network }
        set { factory.network = newValue }
    }

    private var t: AlertThresholds { factory.network.thresholds }

    private static func milliseconds(_ d: Duration) -> Int64 {
        let (s, atto) = d.components
        return s * 1000 + atto / 1_000_000_000_000_000
    }

    // MARK: best-fork blocks

    /// Spec §1 order within a block: startup → gap → runtime → slot → farmer → extrinsics → events.
    package mutating func check(block b: RuleBlock) -> Outcome {
        var out = Outcome()
        let stamp = BlockStamp(b)
        let f = factory

        // Startup: the first Current block of this run.
        if b.mode == .current, let startup = startup(block: stamp, node: b.node, at: b.observedAt) { out.alerts.append(startup) }

        // Resume / chain time gap (every mode).
        switch state.gap.check(stamp, parentHash: b.parentHash, resumeMs: Self.milliseconds(t.blockResume), chainGapMs: Self.milliseconds(t.chainTimeGap)) {
        case .resumed(let localGap, let chainGap, let prev)?:
            let alert = f.alert(.blockResumed, id: f.id(.blockResumed, block: b.hash), block: stamp, mode: b.mode, node: b.node,
                                title: "Node resumed receiving blocks",
                                body: "Local time gap: \(AlertText.timeDelta(milliseconds: localGap))\nHeader time gap: \(AlertText.timeDelta(milliseconds: chainGap))\n\nPrevious best block:\n\(f.blockInfo(prev))",
                                fields: ["local_gap_ms": .int(localGap), "chain_gap_ms": chainGap.map { .int($0) } ?? .null,
                                         "previous_height": .int(Int64(prev.height)), "scope": .string("chain")],
                                observedAtMilliseconds: b.observedAt)
            if state.nodeResumedSinceLastBlock { out.suppressed.append(alert) } else { out.alerts.append(alert) }
        case .chainGap(let chainGap, let prev)?:
            out.alerts.append(f.alert(.blockChainTimeGap, id: f.id(.blockChainTimeGap, block: b.hash), block: stamp, mode: b.mode, node: b.node,
                                      title: "Block chain time gap",
                                      body: "Gap: \(AlertText.timeDelta(milliseconds: chainGap))\n\nPrevious best block:\n\(f.blockInfo(prev))",
                                      fields: ["chain_gap_ms": .int(chainGap), "previous_height": .int(Int64(prev.height))],
                                      observedAtMilliseconds: b.observedAt))
        case nil:
            break
        }
        state.nodeResumedSinceLastBlock = false

        // Runtime upgrade: System.CodeUpdated, or a spec version change not announced by CodeUpdated.
        let events = b.decoded.events ?? []
        let codeUpdated = events.first { $0.pallet == "System" && $0.name == "CodeUpdated" }
        if let codeUpdated {
            out.alerts.append(f.alert(.runtimeUpgraded, id: f.id(.runtimeUpgraded, block: b.hash), block: stamp, mode: b.mode, node: b.node,
                                      title: "Runtime upgraded",
                                      body: "System::CodeUpdated in event [\(codeUpdated.index)](\(f.eventURL(height: b.height, index: codeUpdated.index)))\nSpec version: \(b.specVersion.map(String.init) ?? "unknown") (new runtime applies from the next block)",
                                      event: .init(index: UInt32(codeUpdated.index)),
                                      fields: ["spec_version": b.specVersion.map { .int(Int64($0)) } ?? .null, "source": .string("System.CodeUpdated")],
                                      observedAtMilliseconds: b.observedAt))
        } else if let new = b.specVersion, let old = state.lastSpecVersion, new != old, !state.codeUpdatedAtPrevious {
            out.alerts.append(f.alert(.runtimeUpgraded, id: f.id(.runtimeUpgraded, block: b.hash), block: stamp, mode: b.mode, node: b.node,
                                      title: "Runtime upgraded",
                                      body: "Spec version: \(old) → \(new)",
                                      fields: ["old_spec_version": .int(Int64(old)), "spec_version": .int(Int64(new)), "source": .string("spec version")],
                                      observedAtMilliseconds: b.observedAt))
        }
        if let v = b.specVersion { state.lastSpecVersion = v }
        state.codeUpdatedAtPrevious = codeUpdated != nil

        // Slot time (not in Startup).
        if case .success(let reading?) = state.slot.check(slot: b.slot, chainTime: b.chainTime, mode: b.mode, window: t.slotWindow,
                                                        slow: t.slotSlowRatio, fast: t.slotFastRatio) {
            let kind: AlertKind = reading.slow ? .slowSlotTime : .fastSlotTime
            out.alerts.append(f.alert(kind, id: f.id(kind, block: b.hash), block: stamp, mode: b.mode, node: b.node,
                                      title: reading.slow ? "Slow slot time alert" : "Fast slot time alert",
                                      body: "Current ratio: \(AlertText.twoDecimals(reading.ratio)) seconds per slot\nThreshold: \(AlertText.twoDecimals(reading.threshold)) seconds per slot\nSlot amount: \(reading.slotAmount)\nTime elapsed: \(reading.secondsElapsed) seconds",
                                      fields: ["slot_amount": .int(Int64(reading.slotAmount)), "seconds_elapsed": .int(Int64(reading.secondsElapsed)),
                                               "ratio": .double(reading.ratio), "threshold": .double(reading.threshold)],
                                      observedAtMilliseconds: b.observedAt))
        }

        // Farmers (every mode).
        var votes: [[UInt8]] = []
        for e in events where e.pallet == "Subspace" && e.name == "FarmerVote" {
            if let pk = e["public_key"]?.accountId32 { votes.append(pk) }
        }
        if let r = state.farmer.check(height: b.height, votes: votes, inactive: t.farmerWindow, historySize: t.farmerHistory,
                                      minHistory: t.farmerHistory, low: t.farmerDecreaseFraction, high: t.farmerIncreaseFraction) {
            let kind: AlertKind = r.decreased ? .farmersDecreased : .farmersIncreased
            out.alerts.append(f.alert(kind, id: f.id(kind, block: b.hash), block: stamp, mode: b.mode, node: b.node,
                                      title: "Farmers count has \(r.decreased ? "decreased" : "increased") significantly in the last blocks",
                                      body: "Number of farmers with votes: \(r.count)\nAverage number of farmers with votes in previous \(r.length) blocks: \(AlertText.rustFloat(r.average))",
                                      fields: ["count": .int(Int64(r.count)), "average": .double(r.average), "history": .int(Int64(r.length))],
                                      observedAtMilliseconds: b.observedAt))
        }

        transactionAlerts(b, stamp: stamp, into: &out)
        state.lastChecked = stamp
        return out
    }

    /// The run's Startup alert, once per run id (nil when it was raised already). Also used before a block can
    /// be decoded, so that an operator sees the start even while metadata is missing.
    package mutating func startup(block stamp: BlockStamp, node: String?, at ms: UInt64) -> AlertPayload? {
        guard state.startupRun != runID else { return nil }
        state.startupRun = runID
        let f = factory
        return f.alert(.startup, id: "Startup:\(f.network.idTag):\(runID)", block: stamp, mode: .current, node: node,
                       title: "Launched and connected to the nodes", body: nodes.isEmpty ? "" : "Nodes: " + nodes.joined(separator: ", "),
                       fields: ["run": .string(runID), "nodes": .string(nodes.joined(separator: ", "))], observedAtMilliseconds: ms)
    }

    /// Spec §1.1 and §1.2: the extrinsic priority chain, the independent operator events and the event chain.
    private func transactionAlerts(_ b: RuleBlock, stamp: BlockStamp, into out: inout Outcome) {
        let f = factory
        let net = f.network
        let large = net.largeTransferUnits
        var facts: [Int: ExtrinsicFacts] = [:]
        /// Extrinsic index → the kind it alerted with.
        var alerted: [Int: AlertKind] = [:]
        for (i, x) in b.decoded.extrinsics.enumerated() {
            let e = TransactionRules.facts(x, index: i)
            facts[i] = e
            // Everything shown is built only when the extrinsic alerts: most extrinsics never do.
            func make(_ kind: AlertKind, _ title: String, _ lead: String, value: UInt128?, extra: [String: AlertFieldValue] = [:]) -> AlertPayload {
                var fields: [String: AlertFieldValue] = ["pallet": .string(e.pallet), "call": .string(e.call)]
                if let v = e.transferValue { fields["transfer_value"] = .string(String(v)) }
                if let s = e.signer { fields["signer"] = .string(net.address(s)) }
                return f.alert(kind, id: f.id(kind, block: b.hash, suffix: "ext\(i)"), block: stamp, mode: b.mode, node: b.node, title: title,
                               body: lead + TransactionRules.extrinsicText(e, value: value, factory: f),
                               extrinsic: AlertPayload.ExtrinsicRef(index: UInt32(i), hash: Hex.encode(e.hash)),
                               links: ["extrinsic": f.extrinsicURL(e.hash)],
                               fields: fields.merging(extra) { $1 }, observedAtMilliseconds: b.observedAt)
            }
            let largeValue: (UInt128, String?)? = {
                if let v = e.transferValue, v >= large { return (v, nil) }
                if let n = e.nestedTransfer, n.value >= large { return (n.value, n.path) }
                return nil
            }()
            var kindsText: String { e.accounts.kindsText(net) }
            var alert: AlertPayload?
            if e.pallet == "Sudo" {
                var extra: [String: AlertFieldValue] = [:]
                if let (v, path) = largeValue, let path { extra = ["nested_transfer_value": .string(String(v)), "nested_in": .string(path)] }
                alert = make(.sudoCall, "Sudo call detected", "", value: e.transferValue, extra: extra)
            } else if let (v, path) = largeValue {
                var extra: [String: AlertFieldValue] = ["transfer_value": .string(String(v))]
                if let path { extra["nested_in"] = .string(path) }
                let lead = "Transfer above \(net.thresholds.largeTransfer) \(net.tokenSymbol)\n" + (path.map { "Nested: \($0)\n" } ?? "")
                alert = make(.largeBalanceTransfer, "Large Balances call detected", lead, value: v, extra: extra)
            } else if (e.pallet == "Balances" && e.call.hasPrefix("force")) || e.nestedForce != nil {
                var extra: [String: AlertFieldValue] = [:]
                if let path = e.nestedForce { extra["nested_in"] = .string(path) }
                alert = make(.forceBalanceTransfer, "Force Balances call detected", e.nestedForce.map { "Nested: \($0)\n" } ?? "",
                             value: e.transferValue ?? e.nestedTransfer?.value, extra: extra)
            } else if (e.touchesBalances || e.transferValue != nil || e.nestedTransfer != nil), e.accounts.hasImportant(net) {
                alert = make(.importantAddressTransfer, "Important address transfer detected", "Kind(s): \(kindsText)\n",
                             value: e.transferValue ?? e.nestedTransfer?.value, extra: ["important_kinds": .string(kindsText)])
            } else if let s = e.signer, let name = net.importantName(s) {
                alert = make(.importantAddressExtrinsic, "Important address sent an extrinsic", "Kind: Signer: \(name)\n",
                             value: e.transferValue, extra: ["important_kinds": .string("Signer: \(name)")])
            }
            if let alert {
                alerted[i] = alert.kind
                out.alerts.append(alert)
            }
        }

        for e in b.decoded.events ?? [] {
            let ev = TransactionRules.facts(e)
            let xi = e.extrinsicIndex
            let x = xi.flatMap { facts[$0] }
            func make(_ kind: AlertKind, _ title: String, _ lead: String, extra: [String: AlertFieldValue] = [:]) -> AlertPayload {
                var fields: [String: AlertFieldValue] = ["pallet": .string(e.pallet), "event": .string(e.name)]
                if let v = ev.transferValue { fields["transfer_value"] = .string(String(v)) }
                if let xi { fields["extrinsic_index"] = .int(Int64(xi)) }
                var links = ["event": f.eventURL(height: b.height, index: e.index)]
                if let x { links["extrinsic"] = f.extrinsicURL(x.hash) }
                return f.alert(kind, id: f.id(kind, block: b.hash, suffix: "ev\(e.index)"), block: stamp, mode: b.mode, node: b.node, title: title,
                               body: lead + TransactionRules.eventText(ev, height: b.height, extrinsic: x, factory: f),
                               extrinsic: x.map { AlertPayload.ExtrinsicRef(index: UInt32($0.index), hash: Hex.encode($0.hash)) },
                               event: .init(index: UInt32(e.index)), links: links,
                               fields: fields.merging(extra) { $1 }, observedAtMilliseconds: b.observedAt)
            }
            if e.pallet == "Domains" && e.name == "OperatorSlashed" {
                out.alerts.append(make(.operatorSlashed, "Operator slash detected", "", extra: operatorFields(e)))
            } else if e.pallet == "Domains" && e.name == "OperatorOffline" {
                out.alerts.append(make(.operatorOffline, "Operator offline detected", "", extra: operatorFields(e)))
            }
            let extrinsicAlerted = xi.flatMap { alerted[$0] }
            var kindsText: String { ev.accounts.kindsText(net) }
            if e.pallet == "Sudo" {
                let a = make(.sudoEvent, "Sudo event detected", "")
                if extrinsicAlerted == .sudoCall { out.suppressed.append(a) } else { out.alerts.append(a) }
            } else if let v = ev.transferValue, v >= large {
                let a = make(.largeBalanceTransferEvent, "Large Balances event detected", "Transfer above \(net.thresholds.largeTransfer) \(net.tokenSymbol)\n")
                // Posted for `transfer_all` (no amount in the call) and when no extrinsic alert covered it.
                if x?.call == "transfer_all" || extrinsicAlerted == nil { out.alerts.append(a) } else { out.suppressed.append(a) }
            } else if ev.transferValue != nil, ev.accounts.hasImportant(net) {
                let a = make(.importantAddressTransferEvent, "Important address transfer detected", "Kind(s): \(kindsText)\n",
                             extra: ["important_kinds": .string(kindsText)])
                if extrinsicAlerted != nil { out.suppressed.append(a) } else { out.alerts.append(a) }
            } else if let who = ev.initiator, let name = net.importantName(who) {
                let a = make(.importantAddressEvent, "Important address initiated an event", "Kind: Signer: \(name)\n",
                             extra: ["important_kinds": .string("Signer: \(name)")])
                if extrinsicAlerted != nil { out.suppressed.append(a) } else { out.alerts.append(a) }
            }
        }
    }

    private func operatorFields(_ e: DecodedEvent) -> [String: AlertFieldValue] {
        var extra: [String: AlertFieldValue] = [:]
        if let id = e["operator_id"]?.asUInt64 { extra["operator_id"] = .int(Int64(clamping: id)) }
        if let reason = e["reason"] { extra["reason"] = .string(AlertText.value(reason)) }
        return extra
    }

    // MARK: fork events

    /// Reorg and SideForkExtended (spec §2.7 thresholds; never during Startup). Depths come from heights:
    /// new = new best − common ancestor, old = old best − common ancestor, backwards = old − new when old > new.
    package mutating func apply(forkEvent: ForkEvent, mode: CanonicalMode, node: String?, at ms: UInt64) -> Outcome {
        var out = Outcome()
        guard mode != .startup else { return out }
        let f = factory
        switch forkEvent {
        case .reorg(let oldBest, let newBest, let common, _):
            let newDepth = Int(newBest.height &- min(common.height, newBest.height))
            let oldDepth = Int(oldBest.height &- min(common.height, oldBest.height))
            let backwards = oldDepth > newDepth ? oldDepth - newDepth : nil
            guard max(oldDepth, newDepth) >= t.forkAlertDepth || (backwards ?? 0) >= t.backwardsReorgDepth else { return out }
            var body = "New fork depth: \(newDepth)\nOld fork depth: \(oldDepth)\nOld best block: \(oldBest.height) (\(Hex.encode(oldBest.hash)))"
            if let backwards { body += "\nBackwards reorg depth: \(backwards)" }
            body += "\n\n_Check Subscan 'finalized' blocks for changes_\n"
            var fields: [String: AlertFieldValue] = ["new_depth": .int(Int64(newDepth)), "old_depth": .int(Int64(oldDepth)),
                                                     "old_best_height": .int(Int64(oldBest.height)), "old_best_hash": .string(Hex.encode(oldBest.hash)),
                                                     "common_ancestor_height": .int(Int64(common.height))]
            if let backwards { fields["backwards_depth"] = .int(Int64(backwards)) }
            let stamp = BlockStamp(height: newBest.height, hash: newBest.hash, chainTime: nil, localTime: ms, slot: nil)
            out.alerts.append(f.alert(.reorg, id: f.id(.reorg, block: newBest.hash, suffix: "from:\(Hex.encode(oldBest.hash, prefix: false))"),
                                      block: stamp, mode: mode, node: node,
                                      title: "\(backwards != nil ? "Backwards " : "")Reorg detected", body: body,
                                      fields: fields, observedAtMilliseconds: ms))
        case .sideForkExtended(let tip, let forkPoint, let depth):
            guard state.sideForks.shouldAlert(forkPoint: Hex.encode(forkPoint.hash, prefix: false), depth: Int(depth),
                                              threshold: t.forkAlertDepth, period: t.sideForkRealertEvery) else { return out }
            let stamp = BlockStamp(height: tip.height, hash: tip.hash, chainTime: nil, localTime: ms, slot: nil)
            out.alerts.append(f.alert(.sideForkExtended, id: f.id(.sideForkExtended, block: tip.hash, suffix: "depth\(depth)"),
                                      block: stamp, mode: mode, node: node, title: "Side chain fork extended", body: "Fork depth: \(depth)",
                                      fields: ["depth": .int(Int64(depth)), "fork_point_height": .int(Int64(forkPoint.height)),
                                               "fork_point_hash": .string(Hex.encode(forkPoint.hash))],
                                      observedAtMilliseconds: ms))
        }
        return out
    }

    // MARK: per-node stall

    /// A node's best height (BlockSeen on its new-heads subscription, or NodeStatus.bestHeight). A stalled node
    /// that moves again gets a node-level BlockResumed.
    package mutating func observe(node: String, height: UInt64, hash: [UInt8], at ms: UInt64) -> Outcome {
        var out = Outcome()
        guard let (was, gap) = state.stall.observe(node: node, height: height, hash: hash, at: ms) else { return out }
        let stamp = BlockStamp(height: height, hash: hash, chainTime: nil, localTime: ms, slot: nil)
        let prev = BlockStamp(height: was.height, hash: was.hash, chainTime: nil, localTime: was.seenAt, slot: nil)
        let f = factory
        out.alerts.append(f.alert(.blockResumed, id: "BlockResumed:\(f.network.idTag):\(node):\(Hex.encode(hash, prefix: false))",
                                  block: stamp, mode: .current, node: node, title: "Node resumed receiving blocks",
                                  body: "Local time gap: \(AlertText.duration(milliseconds: gap))\nHeader time gap: missing\n\nPrevious best block:\n\(f.blockInfo(prev))",
                                  fields: ["local_gap_ms": .int(Int64(gap)), "scope": .string("node"), "stall_id": .string(was.openStall ?? "")],
                                  observedAtMilliseconds: ms))
        state.nodeResumedSinceLastBlock = true
        out.alerts = out.alerts.map(Self.withoutUnknownBlock)
        return out
    }

    /// A height from NodeStatus has no hash: such node alerts point at no block (INTERFACE: hashes are 0x + 64 hex).
    package static func withoutUnknownBlock(_ a: AlertPayload) -> AlertPayload {
        guard a.block?.hash == "0x" else { return a }
        var a = a
        a.fields["height"] = .int(Int64(clamping: a.block?.height ?? 0))
        a.block = nil
        a.blockInfo = nil
        a.links = [:]
        return a
    }

    /// Clock tick: every node without a higher block for `block_stall` alerts once (unless isolated).
    package mutating func tick(now ms: UInt64) -> Outcome {
        var out = Outcome()
        let f = factory
        let isolated = state.health?.isolatedNodes ?? []
        for (node, s, gap) in state.stall.tick(now: ms, stallMs: UInt64(max(0, Self.milliseconds(t.blockStall)))) where !isolated.contains(node) {
            let id = "BlockStall:\(f.network.idTag):\(node):\(Hex.encode(s.hash, prefix: false))"
            state.stall.nodes[node]?.openStall = id
            let stamp = BlockStamp(height: s.height, hash: s.hash, chainTime: nil, localTime: s.seenAt, slot: nil)
            out.alerts.append(f.alert(.blockStall, id: id, block: stamp, mode: .current, node: node, title: "Node stopped receiving blocks",
                                      body: "Local time since last block: \(AlertText.duration(milliseconds: gap))",
                                      fields: ["local_gap_ms": .int(Int64(gap))], observedAtMilliseconds: ms))
        }
        out.alerts = out.alerts.map(Self.withoutUnknownBlock)
        return out
    }

    /// The supervisor isolated (or restored) a node: its stall is suppressed while isolated.
    package mutating func setIsolated(node: String, _ isolated: Bool) {
        state.stall.setIsolated(node, isolated)
    }
}
