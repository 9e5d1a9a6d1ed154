import Foundation
import Logging
import Testing
@testable import supervisor
@testable import WorkerRuntime
@testable import Wire
@testable import ControlPlane
@testable import Store
@testable import SubstrateRuntime
@testable import SubstratePrimitives
import TestKit

/// The supervisor's production timings (1 s heartbeats, 3 missed = hung, 2 s SIGKILL grace, 1 s
/// first backoff) driven by a manual clock: the test steps time tick by tick and never waits for it.
@Suite(.timeLimit(.minutes(1)))
struct SupervisorManualClockTests {
    typealias ClockedSupervisor = Supervisor<FakeProcessHost, FakeControlChannel, ManualClock>

    let clock = ManualClock()
    let channel = FakeControlChannel()
    let host: FakeProcessHost
    let supervisor: ClockedSupervisor
    let lineup = WorkerLineup.make(
        nodeRPCURLs: ["ws://a:9944"], stateDirectory: "/tmp/state", workerDirectory: "/bin",
        forwardedArguments: [], environment: [:], supervisorPID: 1
    )

    init() {
        host = FakeProcessHost(channel: channel, heartbeatInterval: .seconds(1), behaviours: ["fork-worker": [.hangsAfterReady]], heartbeats: false)
        supervisor = ClockedSupervisor(
            lineup: lineup, host: host, channel: channel, clock: clock, settings: SupervisorSettings(), jitter: .none,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }

    /// Advances the manual clock by one tick (100 ms) once the ticker sleeps, and waits until the loop handled it.
    func step() async throws {
        _ = try await eventuallyValue(every: .milliseconds(5), "ticker asleep") { clock.sleeperCount > 0 ? true : nil }
        let before = await supervisor.ticksHandled
        clock.advance(by: SupervisorSettings().tickInterval)
        _ = try await eventuallyValue(every: .milliseconds(5), "tick handled") { await supervisor.ticksHandled > before ? true : nil }
    }

    /// Heartbeats from every live worker except `silent`.
    func heartbeat(except silent: String) async {
        for slot in lineup where slot.name != silent {
            if let pid = await host.pid(of: slot.name) {
                channel.inject(.heartbeat(WorkerHeartbeat(worker: slot.name, pid: pid, sequence: 1), from: slot.name))
            }
        }
    }

    func forkSignals() async -> [WorldEvent] {
        await host.log.filter {
            switch $0 {
            case .signaled("fork-worker", _), .spawned("fork-worker"): return true
            default: return false
            }
        }
    }

    @Test func hungAfterThreeMissedHeartbeatsThenSIGKILLAfterGraceThenRestartAfterBackoff() async throws {
        let run = Task { await supervisor.run() }
        _ = try await eventuallyValue(every: .milliseconds(5), "all spawned") { await host.spawns(of: "node-watcher-0") == 1 ? true : nil }
        #expect(clock.now.offset == .zero)

        var elapsed = Duration.zero
        // Three seconds of silence from the fork-worker are tolerated…
        while elapsed < .seconds(3) {
            await heartbeat(except: "fork-worker")
            try await step()
            elapsed += .milliseconds(100)
        }
        #expect(await forkSignals() == [.spawned("fork-worker")])
        // …the next tick declares it hung.
        await heartbeat(except: "fork-worker")
        try await step()
        #expect(await forkSignals() == [.spawned("fork-worker"), .signaled("fork-worker", SIGTERM)])

        // It ignores SIGTERM (stopped). SIGKILL comes after the 2 s grace, not before.
        for _ in 0..<19 {
            await heartbeat(except: "fork-worker")
            try await step()
        }
        #expect(await forkSignals().count == 2)
        try await step()
        #expect(await forkSignals() == [.spawned("fork-worker"), .signaled("fork-worker", SIGTERM), .signaled("fork-worker", SIGKILL)])

        // Then the first backoff, 1 s, and a new fork-worker. Nobody else was touched.
        for _ in 0..<9 {
            await heartbeat(except: "fork-worker")
            try await step()
        }
        #expect(await host.spawns(of: "fork-worker") == 1)
        await heartbeat(except: "fork-worker")
        try await step()
        #expect(await host.spawns(of: "fork-worker") == 2)
        for name in ["notifier", "alert-worker", "node-watcher-0"] {
            #expect(await host.spawns(of: name) == 1)
        }
        #expect(clock.now.offset == .milliseconds(6100))

        supervisor.requestShutdown(reason: "test over")
        #expect(await run.value == .completed(reason: "test over"))
    }
}
