import Foundation
import Logging
import Testing
@testable import fork_worker
@testable import ForkChoice
@testable import alert_worker
@testable import AlertRules
@testable import devnode
@testable import node_watcher
@testable import Store
@testable import SubstrateRuntime
@testable import SubstratePrimitives
@testable import WorkerRuntime
@testable import Wire
import TestKit


/// Rules that count how often they ran, with one deterministic alert per block.
final class CountingRules: BlockRules, @unchecked Sendable {
    var calls: [UInt64] = []
    func alerts(for block: CanonicalBlock) throws -> [AlertPayload] {
        calls.append(block.height)
        return [AlertPayload(id: "t-\(block.height)-\(hexString(block.block.blockHash))", kind: .sudoCall, instance: "t", network: "t",
                             title: "t", text: "t", observedAt: "1970-01-01T00:00:00Z")]
    }
    func alerts(for event: ForkEvent) throws -> [AlertPayload] { [] }
}

@Suite("BlockIntake")
struct BlockIntakeTests {
    func block(_ n: UInt8, parent: UInt8, startsChain: Bool = false, mode: CanonicalMode = .current) -> CanonicalBlock {
        CanonicalBlock(mode: mode, height: UInt64(n), parentHash: [UInt8](repeating: parent, count: 32),
                       block: FetchedBlock(blockHash: [UInt8](repeating: n, count: 32)), startsChain: startsChain)
    }

    @Test func duplicatesAreSkippedOrderIsEnforcedAndStateSurvivesReopen() throws {
        let name = "intake-\(UUID().uuidString)"
        let store = try AlertStore(location: .sqliteMemory(name: name), logger: Logger(label: "t"))
        let rules = CountingRules()
        let intake = try BlockIntake(store: store, rules: rules, window: 100, logger: Logger(label: "t"))
        #expect(try intake.receive(block(1, parent: 0, startsChain: true)) == .committed(newAlerts: 1, lastRowID: 1))
        #expect(try intake.receive(block(1, parent: 0, startsChain: true)) == .alreadyChecked)
        #expect(try intake.receive(block(3, parent: 2)) == .outOfOrder)
        #expect(try intake.receive(block(2, parent: 1)) == .committed(newAlerts: 1, lastRowID: 2))
        #expect(try intake.receive(block(3, parent: 2)) == .committed(newAlerts: 1, lastRowID: 3))
        #expect(rules.calls == [1, 2, 3])
        #expect(try store.cursor(named: AlertStore.alertWorkerCursor)?.height == 3)
        // A new intake over the same store (a restart) knows what was checked.
        let again = try BlockIntake(store: store, rules: rules, window: 100, logger: Logger(label: "t"))
        #expect(try again.receive(block(2, parent: 1)) == .alreadyChecked)
        #expect(again.report(instanceID: 7, nowMilliseconds: 0).checkedHash == [UInt8](repeating: 3, count: 32))
        #expect(try store.checkedBlocks().map(\.commits) == [1, 1, 1])
        // Directly: the store refuses a second commit of a checked hash.
        #expect(try store.commitCheckedBlock(hash: hexString([UInt8](repeating: 3, count: 32)), height: 3, alerts: [],
                                             cursor: StoreCursor(name: "x", height: 3, hash: "h")) == nil)
    }

    @Test func canonicalBlockStartsChainIsAdditive() throws {
        let plain = CanonicalBlock(mode: .replay, height: 5, parentHash: [1], block: FetchedBlock(blockHash: [2]))
        let flagged = CanonicalBlock(mode: .replay, height: 5, parentHash: [1], block: FetchedBlock(blockHash: [2]), startsChain: true)
        #expect(try CanonicalBlock.decodePayload(plain.encodePayload()) == plain)
        #expect(try CanonicalBlock.decodePayload(flagged.encodePayload()) == flagged)
        #expect(try flagged.encodePayload().count == plain.encodePayload().count + 1)
    }
}
