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

/// Spec §8 vectors for the slot-time and farming monitors, and the status-change behaviour around them.
@Suite struct MonitorVectorTests {
    /// Two mock blocks (100 000 ms, slot 100) → (200 000 ms, `slot2`) in a buffer of 2, mode Replay.
    func slotReading(slot2: UInt64 = 200, slow: Double, fast: Double, mode: CanonicalMode = .replay, window: Int = 2)
        -> SlotMonitor.Reading? {
        var m = SlotMonitor()
        _ = m.check(slot: 100, chainTime: 100_000, mode: mode, window: window, slow: slow, fast: fast)
        guard case .success(let r) = m.check(slot: slot2, chainTime: 200_000, mode: mode, window: window, slow: slow, fast: fast) else { return nil }
        return r
    }

    @Test func slotVectors() {
        #expect(slotReading(slow: 2, fast: 0.1) == nil)
        #expect(slotReading(slow: 0.2, fast: 0.1) == .init(slotAmount: 100, secondsElapsed: 100, ratio: 1.0, threshold: 0.2, slow: true))
        #expect(slotReading(slot2: 101, slow: 2, fast: 0.1) == .init(slotAmount: 1, secondsElapsed: 100, ratio: 100.0, threshold: 2, slow: true))
        #expect(slotReading(slow: 10, fast: 2) == .init(slotAmount: 100, secondsElapsed: 100, ratio: 1.0, threshold: 2, slow: false))
        #expect(slotReading(slow: 0.2, fast: 0.1, mode: .startup) == nil)
        #expect(slotReading(slow: 0.2, fast: 0.1, window: 3) == nil)
    }

    @Test func slotAlertsOncePerStatusAndZeroElapsedIsSkipped() {
        var m = SlotMonitor()
        var alerts = 0
        for i in 0 ..< 10 {
            if case .success(let r?) = m.check(slot: UInt64(100 + i), chainTime: UInt64(100_000 + i * 2000), mode: .current, window: 2, slow: 1.1, fast: 0.94) {
                alerts += 1
                #expect(r.slow)
            }
        }
        #expect(alerts == 1 && m.status == .slow)
        var z = SlotMonitor()
        _ = z.check(slot: 1, chainTime: 5000, mode: .current, window: 2, slow: 1.1, fast: 0.94)
        guard case .failure = z.check(slot: 2, chainTime: 5999, mode: .current, window: 2, slow: 1.1, fast: 0.94) else {
            Issue.record("zero seconds elapsed must be reported"); return
        }
    }

    @Test func slotTextFromTheEngine() {
        var network = Fixtures.chronos
        network.thresholds.slotWindow = 2
        network.thresholds.slotSlowRatio = 0.2
        network.thresholds.slotFastRatio = 0.1
        var engine = Fixtures.engine(network)
        _ = engine.check(block: SyntheticBlocks.block(height: 99, slot: 100, time: 100_000, mode: .replay))
        let out = engine.check(block: SyntheticBlocks.block(height: 100, slot: 200, time: 200_000, mode: .replay))
        let a = out.alerts.first { $0.kind == .slowSlotTime }
        #expect(a?.text == "**Slow slot time alert**\nCurrent ratio: 1.00 seconds per slot\nThreshold: 0.20 seconds per slot\nSlot amount: 100\nTime elapsed: 100 seconds")
        #expect(a?.fields["slot_amount"] == .int(100))
    }

    static let farmers = (0 ..< 16).map { i in [UInt8](repeating: UInt8(i + 1), count: 32) }

    @Test func farmerInactiveWindow() {
        var m = FarmerMonitor()
        _ = m.check(height: 0, votes: Array(Self.farmers[0 ..< 3]), inactive: 100, historySize: 1000, minHistory: 1000, low: 0.33, high: 3)
        for h in 1 ... 100 { _ = m.check(height: UInt64(h), votes: [Self.farmers[0]], inactive: 100, historySize: 1000, minHistory: 1000, low: 0.33, high: 3) }
        #expect(m.lastVote.count == 3)
        _ = m.check(height: 101, votes: [Self.farmers[0]], inactive: 100, historySize: 1000, minHistory: 1000, low: 0.33, high: 3)
        #expect(m.lastVote.count == 1 && m.lastVote[Self.farmers[0]] == 101)
        #expect(m.history.values.first == 1)
    }

    /// Config (interval 10, low 0.8, high 1.25, inactive 10, min 0), history [10, 10, 10], then one count.
    func farmerReading(_ count: Int, status: MonitorStatus = .notAlerting) -> (FarmerMonitor.Reading?, FarmerMonitor) {
        var m = FarmerMonitor()
        m.history = PackedU64s([10, 10, 10])
        m.status = status
        let r = m.check(height: 1000, votes: Array(Self.farmers[0 ..< count]), inactive: 10, historySize: 10, minHistory: 0, low: 0.8, high: 1.25)
        return (r, m)
    }

    @Test func farmerVectors() {
        let (dec, afterDec) = farmerReading(5)
        #expect(dec == .init(count: 5, average: 8.75, length: 4, decreased: true))
        var again = afterDec
        #expect(again.check(height: 1001, votes: Array(Self.farmers[0 ..< 5]), inactive: 10, historySize: 10, minHistory: 0, low: 0.8, high: 1.25) == nil)
        #expect(farmerReading(15).0 == .init(count: 15, average: 11.25, length: 4, decreased: false))
        #expect(farmerReading(11).0 == nil)
        #expect(farmerReading(5, status: .decrease).0 == nil) // no repeat while decreased
    }

    @Test func farmerTextsFromTheEngine() {
        var network = Fixtures.chronos
        network.thresholds.farmerHistory = 4
        network.thresholds.farmerWindow = 0
        network.thresholds.farmerDecreaseFraction = 0.8
        network.thresholds.farmerIncreaseFraction = 1.25
        var engine = Fixtures.engine(network)
        for h in 1 ... 3 { _ = engine.check(block: SyntheticBlocks.block(height: UInt64(h), votes: Array(Self.farmers[0 ..< 10]))) }
        let a = engine.check(block: SyntheticBlocks.block(height: 4, votes: Array(Self.farmers[0 ..< 5]))).alerts.first
        #expect(a?.kind == .farmersDecreased)
        #expect(a?.text == "**Farmers count has decreased significantly in the last blocks**\nNumber of farmers with votes: 5\nAverage number of farmers with votes in previous 4 blocks: 8.75")
        #expect(a?.block?.height == 4)
        // Startup mode alerts too (spec: farmers run in every mode).
        var e2 = Fixtures.engine(network)
        for h in 1 ... 3 { _ = e2.check(block: SyntheticBlocks.block(height: UInt64(h), mode: .startup, votes: Array(Self.farmers[0 ..< 10]))) }
        let b = e2.check(block: SyntheticBlocks.block(height: 4, mode: .startup, votes: Array(Self.farmers[0 ..< 16]))).alerts.first
        #expect(b?.kind == .farmersIncreased)
        #expect(b?.text.hasSuffix("Number of farmers with votes: 16\nAverage number of farmers with votes in previous 4 blocks: 11.5") == true)
    }
}
