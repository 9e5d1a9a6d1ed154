import Foundation
import Testing
@testable import AlertRules
@testable import alert_worker
@testable import devnode
@testable import Store
@testable import SubstrateRuntime
@testable import SubstratePrimitives
@testable import WorkerRuntime
@testable import Wire
import TestKit

/// Every transaction rule on the synthetic Chronos blocks #1000–#1005, with priority de-dup, texts and ids.
@Suite(.enabled(if: RulesConformance.enabled, Comment(rawValue: RulesConformance.note)))
struct SubspaceConformanceRuleTests {
    let tag = "91912b429ce7bf29"

    /// Runs #1000...#1005 through one engine; returns the outcome per block.
    func runChain(_ engine: inout AlertRuleEngine) throws -> [Int: AlertRuleEngine.Outcome] {
        var out: [Int: AlertRuleEngine.Outcome] = [:]
        for n in 1000 ... 1005 { out[n] = engine.check(block: try RulesConformance.block(n)) }
        return out
    }

    @Test func alertsPerBlockWithPriorityDedup() throws {
        var engine = Fixtures.engine()
        let out = try runChain(&engine)
        #expect(out[1000]!.alerts.isEmpty)
        #expect(out[1001]!.alerts.map(\.kind) == [.sudoCall])
        #expect(out[1001]!.suppressed.map(\.kind) == [.sudoEvent])
        #expect(out[1002]!.alerts.map(\.kind) == [.largeBalanceTransfer])
        #expect(out[1002]!.suppressed.map(\.kind) == [.largeBalanceTransferEvent])
        // #1003: Sudo.sudo(force_transfer) → SudoCall (priority 1); the direct force_transfer → ForceBalanceTransfer.
        #expect(out[1003]!.alerts.map(\.kind) == [.sudoCall, .forceBalanceTransfer])
        #expect(out[1003]!.alerts.map { $0.extrinsic?.index } == [1, 2])
        #expect(out[1003]!.suppressed.map(\.kind) == [.sudoEvent])
        // #1004: two operator slashes (Initialization and Finalization phases); the 45 s gap is below 55 s.
        #expect(out[1004]!.alerts.map(\.kind) == [.operatorSlashed, .operatorSlashed])
        #expect(out[1004]!.alerts.map { $0.event?.index } == [0, 8])
        #expect(out[1004]!.alerts.map { $0.fields["operator_id"] } == [.int(7), .int(9)])
        // #1005: two sudo calls (one by a non-sudo signer, failing) and a large transfer_allow_death.
        #expect(out[1005]!.alerts.map(\.kind) == [.sudoCall, .sudoCall, .largeBalanceTransfer])
        #expect(out[1005]!.suppressed.map(\.kind) == [.sudoEvent, .largeBalanceTransferEvent])
        // Exactly one alert per extrinsic / event.
        for (_, o) in out {
            let ids = o.alerts.map(\.id) + o.suppressed.map(\.id)
            #expect(Set(ids).count == ids.count)
        }
    }

    @Test func sudoCallTextAndId() throws {
        var engine = Fixtures.engine()
        _ = engine.check(block: try RulesConformance.block(1000))
        let a = try #require(engine.check(block: try RulesConformance.block(1001)).alerts.first)
        let hash = try RulesConformance.extrinsicHash(1001, 1)
        let block = try RulesConformance.blockHash(1001)
        #expect(a.id == "SudoCall:\(tag):\(block.dropFirst(2)):ext1")
        #expect(a.title == "Sudo call detected")
        let h = Hex.decode(hash)!
        let short = "0x" + Hex.encode(h.prefix(2), prefix: false) + "\u{2026}" + Hex.encode(h.suffix(2), prefix: false)
        #expect(a.text == """
            **Sudo call detected**
            Extrinsic Sudo::sudo(1) [\(short)](https://autonomys-chronos.subscan.io/extrinsic/\(hash))
            Accounts: Signer: sudYSx5orDhxEg3qZVfZFsTE3WBtDncU5b6Kzzs9fY8rucEby

            """)
        #expect(a.extrinsic == .init(index: 1, hash: hash))
        #expect(a.block?.height == 1001 && a.block?.hash == block)
        #expect(a.links["extrinsic"] == "https://autonomys-chronos.subscan.io/extrinsic/\(hash)")
        #expect(a.blockInfo?.contains("ChainTime: 2025-06-15 15:06:46 UTC (1750000006000)\n") == true)
        #expect(a.blockInfo?.contains("Slot: 6018\n") == true)
        #expect(a.mode == .replay && a.network == "Autonomys Chronos Testnet" && a.severity == .critical)
    }

    @Test func largeTransferText() throws {
        var engine = Fixtures.engine()
        let a = try #require(engine.check(block: try RulesConformance.block(1002)).alerts.first)
        let hash = try RulesConformance.extrinsicHash(1002, 1)
        #expect(a.text.hasPrefix("**Large Balances call detected**\nTransfer above 1000000 AI3\nExtrinsic Balances::transfer_keep_alive(1) ["))
        #expect(a.text.hasSuffix("""
            (https://autonomys-chronos.subscan.io/extrinsic/\(hash))
            Transfer Value: 2000000 AI3
            Accounts: Signer: sufqEgbFNTxaTYxVRD97mTGanhWS8REojr5nssFEAz4Z42FZd, Receiver: sue3hrY3Pdu8ngL8ZKut7jqMeoM8uTdVrBdNxKLe8EXt8gZwH

            """))
        #expect(a.fields["transfer_value"] == .string("2000000000000000000000000"))
    }

    @Test func transferAllowDeathOf1139874_58() throws {
        var engine = Fixtures.engine()
        let o = engine.check(block: try RulesConformance.block(1005))
        let large = try #require(o.alerts.first { $0.kind == .largeBalanceTransfer })
        #expect(large.extrinsic?.index == 3)
        #expect(large.text.contains("Extrinsic Balances::transfer_allow_death(3) ["))
        #expect(large.text.contains("Transfer Value: 1139874.58 AI3\n"))
        // The Sudo.sudo(force_transfer of 50,000,000 AI3) stays a SudoCall and says what it carried.
        let sudo = o.alerts[0]
        #expect(sudo.kind == .sudoCall && sudo.fields["nested_in"] == .string("Sudo::sudo > Balances::force_transfer"))
        #expect(sudo.fields["nested_transfer_value"] == .string("50000000000000000000000000"))
        // The suppressed event duplicate carries the event text.
        let ev = try #require(o.suppressed.first { $0.kind == .largeBalanceTransferEvent })
        #expect(ev.id.hasSuffix(":ev10"))
        #expect(ev.text.hasPrefix("**Large Balances event detected**\nTransfer above 1000000 AI3\nEvent Balances::Transfer([10](https://autonomys-chronos.subscan.io/event/1005-10))\nPhase: [ApplyExtrinsic(3)](https://autonomys-chronos.subscan.io/extrinsic/"))
        #expect(ev.text.contains("Transfer Value: 1139874.58 AI3\nAccounts: Sender: sue3hrY3Pdu8ngL8ZKut7jqMeoM8uTdVrBdNxKLe8EXt8gZwH, Receiver: suc4skgWjbPaxeS8QBGyebA81Curcc7SATqJUehdauLmwBiny\n{ from: "))
    }

    @Test func forceTransferText() throws {
        var engine = Fixtures.engine()
        let o = engine.check(block: try RulesConformance.block(1003))
        let force = try #require(o.alerts.first { $0.kind == .forceBalanceTransfer })
        #expect(force.text.hasPrefix("**Force Balances call detected**\nExtrinsic Balances::force_transfer(2) ["))
        #expect(force.text.contains("Transfer Value: 1 AI3\n"))
        #expect(force.text.contains("Accounts: Signer: suc4skgWjbPaxeS8QBGyebA81Curcc7SATqJUehdauLmwBiny, Sender: sufqEgbFNTxaTYxVRD97mTGanhWS8REojr5nssFEAz4Z42FZd, Receiver: suc4skgWjbPaxeS8QBGyebA81Curcc7SATqJUehdauLmwBiny\n"))
    }

    @Test func operatorSlashedText() throws {
        var engine = Fixtures.engine()
        let o = engine.check(block: try RulesConformance.block(1004))
        #expect(o.alerts[0].text.hasPrefix("**Operator slash detected**\nEvent Domains::OperatorSlashed([0](https://autonomys-chronos.subscan.io/event/1004-0))\nPhase: Initialization\n{ operator_id: 7, reason: InvalidBundle (1003) }"))
        #expect(o.alerts[1].text.contains("Phase: Finalization\n{ operator_id: 9, reason: BadExecutionReceipt (0x34bf"))
        #expect(o.alerts[0].id == "OperatorSlashed:\(tag):\(try RulesConformance.blockHash(1004).dropFirst(2)):ev0")
    }

    @Test func chainTimeGapOn1004WithLowerThreshold() throws {
        var network = Fixtures.chronos
        network.thresholds.chainTimeGap = .seconds(40)
        var engine = Fixtures.engine(network)
        for n in 1000 ... 1003 { _ = engine.check(block: try RulesConformance.block(n)) }
        let o = engine.check(block: try RulesConformance.block(1004))
        let gap = try #require(o.alerts.first { $0.kind == .blockChainTimeGap })
        #expect(gap.text.hasPrefix("**Block chain time gap**\nGap: 45s\n\nPrevious best block:\nBlock: [0x411d\u{2026}830f](https://autonomys-chronos.subscan.io/block/0x411d60fd9deecb30352c87b382ef05a07ed0ff14b06e74b52c270b116c07830f) (1003)\nChainTime: "))
        #expect(gap.fields["chain_gap_ms"] == .int(45_000))
        // Status change only: the next gap-free block resets, nothing repeats.
        #expect(engine.check(block: try RulesConformance.block(1005)).alerts.allSatisfy { $0.kind != .blockChainTimeGap })
    }

    @Test func resumeOn1004WhenReceivedLate() throws {
        var engine = Fixtures.engine()
        for n in 1000 ... 1003 { _ = engine.check(block: try RulesConformance.block(n)) }
        let late = 1_750_000_000_500 + 3 * 6000 + 70_000
        let o = engine.check(block: try RulesConformance.block(1004, receivedAt: UInt64(late)))
        let r = try #require(o.alerts.first { $0.kind == .blockResumed })
        #expect(r.text.hasPrefix("**Node resumed receiving blocks**\nLocal time gap: 1m 10s\nHeader time gap: 45s\n\nPrevious best block:\nBlock: [0x411d"))
    }

    @Test func farmerVotesAreCounted() throws {
        var engine = Fixtures.engine()
        for n in 1000 ... 1005 { _ = engine.check(block: try RulesConformance.block(n)) }
        // 4 distinct farmer public keys over #1000 and #1004.
        #expect(engine.state.farmer.lastVote.count == 4)
        #expect(engine.state.farmer.history.values == [4, 4, 2, 2, 2, 2])
        #expect(engine.state.slot.slots.values.count == 6)
    }

    @Test func importantAddressesOnChronos() throws {
        // Make the conformance sudo key and alice important, as a user's [[important_addresses]] would.
        var network = Fixtures.chronos
        network.importantAddresses = [
            ImportantAccount(name: "Sudo", account: Hex.decode("0x6d57406dc9d7059e5b7f6522b3cece497073e324dc2e0ae0bba2068700511aa8")!),
            ImportantAccount(name: "Market Liquidity", account: Hex.decode("0x83a78a797e21338423ed1afb06fc5110ca3a5b55896f4c69dd590759f82f79fa")!),
        ]
        network.thresholds.largeTransfer = "100000000" // keep 1002/1005 transfers below "large"
        var engine = Fixtures.engine(network)
        let o1001 = engine.check(block: try RulesConformance.block(1001))
        #expect(o1001.alerts.map(\.kind) == [.sudoCall]) // Sudo wins over ImportantAddressExtrinsic
        // Withdraw/Deposit/TransactionFeePaid of the sudo key are duplicates of the extrinsic alert.
        #expect(o1001.suppressed.map(\.kind) == [.importantAddressTransferEvent, .sudoEvent, .importantAddressTransferEvent, .importantAddressTransferEvent])
        let o1002 = engine.check(block: try RulesConformance.block(1002))
        let t = try #require(o1002.alerts.first)
        #expect(t.kind == .importantAddressTransfer)
        #expect(t.text.hasPrefix("**Important address transfer detected**\nKind(s): Receiver: Market Liquidity\nExtrinsic Balances::transfer_keep_alive(1)"))
        #expect(t.text.contains("Receiver: sue3hrY3Pdu8ngL8ZKut7jqMeoM8uTdVrBdNxKLe8EXt8gZwH (Market Liquidity)"))
        // #1005 ext 2: Sudo.sudo signed by the important "Market Liquidity" (bob) → SudoCall; ext 3 → ImportantAddressTransfer.
        let o1005 = engine.check(block: try RulesConformance.block(1005))
        #expect(o1005.alerts.map(\.kind) == [.sudoCall, .sudoCall, .importantAddressTransfer])
        #expect(o1005.alerts[2].fields["important_kinds"] == .string("Signer: Market Liquidity"))
    }

    @Test func pipelineDecodesWithTheBlocksSpecVersionAndCommits() throws {
        let store = try AlertStore(location: .sqliteMemory(name: "conf-\(UUID())"), logger: .init(label: "t"))
        let pipeline = try AlertRulesPipeline(store: store, catalogue: Fixtures.catalogue, network: Fixtures.chronos, instance: "Test",
                                              runID: "r", nodes: [], logger: .init(label: "t"))
        pipeline.cache(RulesConformance.metadata!, specVersion: 6)
        var inserted: [String] = []
        for n in 1000 ... 1005 {
            let c = try RulesConformance.canonical(n)
            let b = try pipeline.decode(c, node: "ws://a", receivedAtMilliseconds: 1_750_000_000_000 + UInt64(n - 1000) * 6000)
            inserted += try pipeline.process(b).inserted
        }
        #expect(inserted.count == 9)
        #expect(try store.cursor(named: AlertStore.alertWorkerCursor)?.height == 1005)
        #expect(pipeline.suppressedCounts[.sudoEvent] == 3)
        // Unknown spec version → a clear error, not a wrong decode.
        var c = try RulesConformance.canonical(1001)
        c.block.specVersion = 7
        #expect(throws: AlertRulesError.self) { _ = try pipeline.decode(c, node: nil, receivedAtMilliseconds: 0) }
    }
}
