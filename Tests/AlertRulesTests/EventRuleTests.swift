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

/// Event-chain de-duplication beyond the conformance blocks: transfer_all, event-only transfers,
/// important-address events, and the fixed TransactionPayment spelling.
@Suite struct EventRuleTests {
    static let ai3: UInt128 = 1_000_000_000_000_000_000
    let mainnet = Fixtures.mainnet
    var liquidity: [UInt8] { mainnet.importantAddresses[6].account }
    let alice = [UInt8](repeating: 0xa1, count: 32)
    let bob = [UInt8](repeating: 0xb0, count: 32)

    func call(_ pallet: String, _ name: String, _ args: [ScaleField]) -> DecodedCall {
        DecodedCall(.variant(ScaleVariant(typeId: 1, index: 5, name: pallet, fields: [
            ScaleField(name: nil, value: .variant(ScaleVariant(typeId: 2, index: 0, name: name, fields: args))),
        ])), callTypeId: 1)!
    }

    func signed(_ c: DecodedCall, by signer: [UInt8], salt: UInt8) -> DecodedExtrinsic {
        DecodedExtrinsic(bytes: [salt, 1, 2, 3], version: 4,
                         signature: ExtrinsicSignature(address: .variant(ScaleVariant(typeId: 3, index: 0, name: "Id", fields: [ScaleField(name: nil, value: .bytes(signer))])),
                                                       signature: .bytes([]), extensions: []),
                         call: c)
    }

    func event(_ i: Int, _ pallet: String, _ name: String, _ fields: [ScaleField], ext: UInt32?) -> DecodedEvent {
        DecodedEvent(index: i, phase: ext.map { .applyExtrinsic($0) } ?? .finalization, phaseValue: .bool(true), palletIndex: 0, pallet: pallet,
                     variantIndex: 0, name: name, fields: fields, topics: [], record: .bool(true))
    }

    func block(_ extrinsics: [DecodedExtrinsic], _ events: [DecodedEvent]) -> RuleBlock {
        var b = RuleBlock(decoded: DecodedBlock(header: SyntheticBlocks.header(height: 50, parent: SyntheticBlocks.hash(49), slot: 50),
                                                extrinsics: [SyntheticBlocks.timestampExtrinsic(1)] + extrinsics, events: events),
                          specVersion: 1, node: nil, receivedAtMilliseconds: nil, mode: .replay)
        b.hash = SyntheticBlocks.hash(50)
        return b
    }

    @Test func transferAllPostsTheLargeEvent() {
        var e = Fixtures.engine(mainnet)
        let x = signed(call("Balances", "transfer_all", [ScaleField(name: "dest", value: .bytes(bob)), ScaleField(name: "keep_alive", value: .bool(false))]), by: alice, salt: 1)
        let ev = event(0, "Balances", "Transfer", [ScaleField(name: "from", value: .bytes(alice)), ScaleField(name: "to", value: .bytes(bob)),
                                                   ScaleField(name: "amount", value: .unsigned(3_000_000 * Self.ai3))], ext: 1)
        let o = e.check(block: block([x], [ev]))
        #expect(o.alerts.map(\.kind) == [.largeBalanceTransferEvent])
        #expect(o.alerts.first?.text.hasPrefix("**Large Balances event detected**\nTransfer above 1000000 AI3\nEvent Balances::Transfer([0](https://autonomys.subscan.io/event/50-0))\nPhase: [ApplyExtrinsic(1)](https://autonomys.subscan.io/extrinsic/0x") == true)
        #expect(o.alerts.first?.extrinsic?.index == 1 && o.alerts.first?.event?.index == 0)
    }

    @Test func eventOnlyLargeTransferIsPosted() {
        // A large Balances event with no extrinsic alert behind it (e.g. Finalization) is not lost.
        var e = Fixtures.engine(mainnet)
        let ev = event(0, "Balances", "Deposit", [ScaleField(name: "who", value: .bytes(bob)), ScaleField(name: "amount", value: .unsigned(2_000_000 * Self.ai3))], ext: nil)
        #expect(e.check(block: block([], [ev])).alerts.map(\.kind) == [.largeBalanceTransferEvent])
    }

    @Test func importantEventsAreDuplicatesOfTheExtrinsicAlert() {
        var e = Fixtures.engine(mainnet)
        let x = signed(call("Balances", "transfer_keep_alive", [ScaleField(name: "dest", value: .bytes(bob)), ScaleField(name: "value", value: .unsigned(20_000 * Self.ai3))]),
                       by: liquidity, salt: 2)
        let events = [
            event(0, "Balances", "Withdraw", [ScaleField(name: "who", value: .bytes(liquidity)), ScaleField(name: "amount", value: .unsigned(5))], ext: 1),
            event(1, "Balances", "Transfer", [ScaleField(name: "from", value: .bytes(liquidity)), ScaleField(name: "to", value: .bytes(bob)),
                                              ScaleField(name: "amount", value: .unsigned(20_000 * Self.ai3))], ext: 1),
            event(2, "TransactionPayment", "TransactionFeePaid", [ScaleField(name: "who", value: .bytes(liquidity)),
                                                                  ScaleField(name: "actual_fee", value: .unsigned(5)), ScaleField(name: "tip", value: .unsigned(0))], ext: 1),
            event(3, "System", "Remarked", [ScaleField(name: "sender", value: .bytes(liquidity))], ext: nil),
        ]
        let o = e.check(block: block([x], events))
        #expect(o.alerts.map(\.kind) == [.importantAddressTransfer])
        #expect(o.alerts.first?.fields["important_kinds"] == .string("Signer: Market Liquidity"))
        #expect(o.suppressed.map(\.kind) == [.importantAddressTransferEvent, .importantAddressTransferEvent, .importantAddressTransferEvent])
        #expect(o.suppressed[1].fields["important_kinds"] == .string("Sender: Market Liquidity"))
        #expect(o.suppressed[0].fields["important_kinds"] == .string("Signer: Market Liquidity, Sender: Market Liquidity"))
        // ⚠ fixed: TransactionPayment's `who` is the Sender (the original misspelled the pallet name).
        #expect(o.suppressed[2].fields["important_kinds"] == .string("Signer: Market Liquidity, Sender: Market Liquidity"))
    }

    @Test func importantAddressExtrinsicAndEventWithoutExtrinsic() {
        var e = Fixtures.engine(mainnet)
        let sudoKey = mainnet.importantAddresses[12].account
        let x = signed(call("System", "remark", [ScaleField(name: "remark", value: .bytes([1]))]), by: sudoKey, salt: 3)
        let ev = event(0, "Domains", "OperatorNominated", [ScaleField(name: "who", value: .bytes(sudoKey))], ext: nil)
        let o = e.check(block: block([x], [ev]))
        #expect(o.alerts.map(\.kind) == [.importantAddressExtrinsic, .importantAddressEvent])
        #expect(o.alerts[0].text.hasPrefix("**Important address sent an extrinsic**\nKind: Signer: Sudo\nExtrinsic System::remark(1) ["))
        #expect(o.alerts[1].text.hasPrefix("**Important address initiated an event**\nKind: Signer: Sudo\nEvent Domains::OperatorNominated("))
        #expect(o.alerts[1].text.contains("Phase: Finalization\n"))
    }

    @Test func operatorOffline() {
        var e = Fixtures.engine(mainnet)
        let ev = event(0, "Domains", "OperatorOffline", [ScaleField(name: "operator_id", value: .unsigned(8))], ext: nil)
        let a = e.check(block: block([], [ev])).alerts
        #expect(a.map(\.kind) == [.operatorOffline])
        #expect(a.first?.text == "**Operator offline detected**\nEvent Domains::OperatorOffline([0](https://autonomys.subscan.io/event/50-0))\nPhase: Finalization\n{ operator_id: 8 }")
        #expect(a.first?.fields["operator_id"] == .int(8))
    }
}
