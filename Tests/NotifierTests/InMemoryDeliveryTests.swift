import Foundation
import Testing
@testable import notifier
@testable import Store
@testable import WorkerRuntime
import TestKit

/// A delivery loop driven entirely in memory: the webhook is the testing kit's fake behind an in-memory transport,
/// and time is a `ManualClock` (monotonic) with a wall clock derived from it, so backoffs pass without sleeping.
@Suite("DeliveryLoop in memory", .timeLimit(.minutes(1)))
struct InMemoryDeliveryTests {
    struct Rig {
        let clock = ManualClock()
        let base = Date()
        let service: FakeSinkService
        let store: AlertStore
        let wake: WakeSignal
        let stopping = OnceFlag()
        let loop: DeliveryLoop<ManualClock>

        init(faults: [String: [String]], policy: RetryPolicy) throws {
            service = FakeSinkService(faults: faults)
            store = try AlertStore(location: .sqliteMemory(name: "mem-" + UUID().uuidString), logger: testLogger)
            wake = WakeSignal(clock: clock)
            let clock = self.clock, base = self.base
            let sink = WebhookSink(url: "http://fake.invalid/hook/a", client: InMemoryHTTPTransport(service: service, clock: clock),
                                   timeout: .seconds(5), logger: testLogger)
            loop = DeliveryLoop(sink: sink, outbox: Outbox(store: store), allSinks: [sink.name],
                                gate: AlertLimitGate(limit: nil, testStartup: false) { _ in }, wake: wake, stopping: stopping,
                                policy: policy, pollInterval: .seconds(30), clock: clock,
                                wallClock: WallClock { base.addingTimeInterval(clock.now.offset.seconds) },
                                logger: testLogger, metrics: NotifierMetrics(), onFatal: { _ in })
        }

        var webhookRequests: [[String: Any]] { service.requests(endpoint: "webhook") }
        var accepted: [String] { webhookRequests.filter { $0["accepted"] as? Bool == true }.compactMap { $0["headers"].flatMap { ($0 as? [String: String])?["idempotency-key"] } } }

        func stop(_ task: Task<Void, Never>) async {
            stopping.set()
            wake.ring()
            clock.advance(by: .seconds(3600))
            await task.value
        }
    }

    @Test("a webhook that answers 500 is retried only once the backoff has passed on the clock")
    func retryWaitsForTheClock() async throws {
        // Backoff after the first failure: 10 s nominal, at most half of it removed by jitter.
        let rig = try Rig(faults: ["webhook": ["500"]], policy: RetryPolicy(base: .seconds(10), cap: .seconds(60)))
        try rig.store.commitBlock(alerts: [testAlert(1)], cursor: nil, now: rig.base)
        let task = Task { await rig.loop.run() }
        // Generous real-time bounds: on a loaded machine the loop's first pass may take a while.
        #expect(await eventually(timeout: .seconds(30)) { rig.webhookRequests.count == 1 })
        #expect(rig.webhookRequests.first?["status"] as? Int == 500)
        #expect(await eventually(timeout: .seconds(30)) { rig.clock.sleeperCount > 0 })
        // The clock stands still: no retry, however long we wait in real time.
        try await Task.sleep(for: .milliseconds(200))
        #expect(rig.webhookRequests.count == 1)
        rig.clock.advance(by: .seconds(4))
        try await Task.sleep(for: .milliseconds(100))
        #expect(rig.webhookRequests.count == 1, "4 s is shorter than the shortest backoff (5 s)")
        rig.clock.advance(by: .seconds(7))
        #expect(await eventually(timeout: .seconds(30)) { rig.accepted.count == 1 })
        #expect(rig.accepted == [testAlert(1).id])
        await rig.stop(task)
    }

    @Test("a slow webhook times out on the manual clock and the alert is delivered on the next attempt, once")
    func slowAnswerTimesOut() async throws {
        let rig = try Rig(faults: ["webhook": ["slow:30"]], policy: RetryPolicy(base: .seconds(1), cap: .seconds(2)))
        try rig.store.commitBlock(alerts: [testAlert(2), testAlert(3)], cursor: nil, now: rig.base)
        let task = Task { await rig.loop.run() }
        #expect(await eventually(timeout: .seconds(30)) { rig.webhookRequests.count == 1 && rig.clock.sleeperCount > 0 })
        // Past the request's 5 s timeout, then past the backoff: the first alert goes again, then the second.
        for _ in 0 ..< 4 where rig.accepted.count < 2 {
            rig.clock.advance(by: .seconds(5))
            _ = await eventually(timeout: .milliseconds(500)) { rig.accepted.count == 2 }
        }
        #expect(rig.accepted == [testAlert(2).id, testAlert(3).id], "in order, each once")
        await rig.stop(task)
    }
}
