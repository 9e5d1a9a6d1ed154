import Foundation
import Logging
import Synchronization
import Testing
@testable import supervisor
@testable import WorkerRuntime
@testable import Wire
@testable import ControlPlane
@testable import Store
@testable import SubstrateRuntime
@testable import SubstratePrimitives
import TestKit

/// The supervisor's decisions against a fake process host and a fake control channel: the order
/// of spawns, signals and exits is asserted from the fake world's event log.
@Suite(.timeLimit(.minutes(1)))
struct SupervisorOrchestrationTests {
    typealias FakeSupervisor = Supervisor<FakeProcessHost, FakeControlChannel, ContinuousClock>

    static func settings() -> SupervisorSettings {
        var settings = SupervisorSettings()
        settings.heartbeatInterval = .milliseconds(20)
        // Generous: a loaded CI machine must not make a healthy fake worker look hung. The hang tests lower it.
        settings.missedHeartbeats = 50
        settings.readyTimeout = .milliseconds(300)
        settings.hungKillGrace = .milliseconds(60)
        settings.stopTimeout = .milliseconds(200)
        settings.notifierStopTimeout = .milliseconds(300)
        settings.killWait = .milliseconds(200)
        settings.restart.initialBackoff = .milliseconds(10)
        settings.restart.maximumBackoff = .milliseconds(80)
        settings.restart.minimumUptime = .milliseconds(100)
        settings.restart.maximumRestarts = 3
        settings.restart.restartWindow = .seconds(10)
        return settings
    }

    static let lineup = WorkerLineup.make(
        nodeRPCURLs: ["ws://a:9944", "ws://b:9944"], stateDirectory: "/tmp/state", workerDirectory: "/bin",
        forwardedArguments: [], environment: [:], supervisorPID: 1
    )

    /// A supervisor in a fake world, running in the background.
    struct World {
        let channel: FakeControlChannel
        let host: FakeProcessHost
        let supervisor: FakeSupervisor
        let lifecycle: Locked<[LifecycleEvent]>
        let run: Task<SupervisorOutcome, Never>

        init(behaviours: [String: [FakeBehaviour]] = [:], settings: SupervisorSettings = SupervisorOrchestrationTests.settings()) {
            let channel = FakeControlChannel()
            let host = FakeProcessHost(channel: channel, heartbeatInterval: settings.heartbeatInterval, behaviours: behaviours)
            channel.setCommandObserver { peer, command in Task { await host.record(.command(peer, command)) } }
            let lifecycle = Locked<[LifecycleEvent]>([])
            let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
            let supervisor = FakeSupervisor(
                lineup: SupervisorOrchestrationTests.lineup, host: host, channel: channel, clock: ContinuousClock(),
                settings: settings, jitter: .none, logger: logger,
                onLifecycle: { event in if event != .alive { lifecycle.withLock { $0.append(event) } } }
            )
            self.channel = channel
            self.host = host
            self.supervisor = supervisor
            self.lifecycle = lifecycle
            run = Task { await supervisor.run() }
        }

        func waitUntilReady() async throws {
            _ = try await eventuallyValue(timeout: .seconds(5), every: .milliseconds(5), "READY") { lifecycle.withLock { $0.contains(.ready) } ? true : nil }
        }

        /// Stops the supervisor (if still running) and returns its outcome.
        func stop() async -> SupervisorOutcome {
            supervisor.requestShutdown(reason: "test over")
            return await run.value
        }
    }

    @Test func startsInOrderWaitingForEachReady() async throws {
        let world = World()
        try await world.waitUntilReady()
        let log = await world.host.log
        let names = ["notifier", "alert-worker", "fork-worker", "node-watcher-0", "node-watcher-1"]
        #expect(Array(log.prefix(10)) == names.flatMap { [WorldEvent.spawned($0), .ready($0)] })
        #expect(world.lifecycle.withLock { $0.first(where: { $0 == .ready }) } == .ready)
        #expect(await world.stop() == .completed(reason: "test over"))
    }

    @Test func gracefulStopIsReverseStartOrder() async throws {
        let world = World()
        try await world.waitUntilReady()
        let outcome = await world.stop()
        #expect(outcome == .completed(reason: "test over"))
        #expect(outcome.exitCode == 0)
        let log = await world.host.log
        let stops = log.compactMap { event -> String? in
            if case .signaled(let name, SIGTERM) = event { return name }
            if case .exited(let name, _) = event { return "exit " + name }
            return nil
        }
        // Watchers stop together, then fork-worker, alert-worker, notifier, each after the previous group exited.
        #expect(stops == [
            "node-watcher-0", "exit node-watcher-0", "node-watcher-1", "exit node-watcher-1",
            "fork-worker", "exit fork-worker", "alert-worker", "exit alert-worker", "notifier", "exit notifier",
        ])
        // Each was also told to shut down over the control socket, before its SIGTERM.
        for name in ["notifier", "alert-worker", "fork-worker", "node-watcher-0", "node-watcher-1"] {
            let command = log.firstIndex(of: .command(name, .shutdown(reason: "supervisor shutdown")))
            #expect(command != nil, "no shutdown command for \(name)")
        }
        #expect(await world.host.liveCount == 0)
        #expect(world.lifecycle.withLock { $0.contains(.stopping) })
    }

    @Test func hungWorkerGetsSIGTERMThenSIGKILLThenRestart() async throws {
        var settings = Self.settings()
        settings.missedHeartbeats = 3
        let world = World(behaviours: ["fork-worker": [.hangsAfterReady]], settings: settings)
        // The first fork-worker says hello but never heartbeats (and ignores SIGTERM, like a stopped process).
        _ = try await eventuallyValue(every: .milliseconds(5), "fork-worker replaced") { await world.host.spawns(of: "fork-worker") == 2 ? true : nil }
        let log = await world.host.log
        let forkEvents = log.filter {
            switch $0 {
            case .spawned("fork-worker"), .signaled("fork-worker", _), .exited("fork-worker", _): return true
            default: return false
            }
        }
        #expect(Array(forkEvents.prefix(5)) == [
            .spawned("fork-worker"), .signaled("fork-worker", SIGTERM), .signaled("fork-worker", SIGKILL),
            .exited("fork-worker", .signaled(SIGKILL)), .spawned("fork-worker"),
        ])
        let rows = await world.supervisor.statusRows()
        let fork = rows.first { $0.name == "fork-worker" }
        #expect(fork?.restarts == 1)
        #expect(fork?.lastExit?.contains("SIGKILL") == true)
        #expect(await world.stop().exitCode == 0)
    }

    @Test func crashLoopBacksOffThenEscalatesWithExitCode1() async throws {
        let crashes = Array(repeating: FakeBehaviour.crashAtStart(1), count: 10)
        let world = World(behaviours: ["alert-worker": crashes])
        let outcome = await world.run.value
        guard case .escalated(let worker, _) = outcome else {
            Issue.record("expected escalation, got \(outcome)")
            return
        }
        #expect(worker == "alert-worker")
        #expect(outcome.exitCode == 1)
        // One start plus K = 3 restarts, then the supervisor gave up.
        #expect(await world.host.spawns(of: "alert-worker") == 4)
        // Workers after it in start order were never started; the notifier was stopped.
        #expect(await world.host.spawns(of: "fork-worker") == 0)
        #expect(await world.host.liveCount == 0)
    }

    @Test func exitCode78IsNeverRetried() async throws {
        let world = World(behaviours: ["notifier": [.crashAtStart(78)]])
        let outcome = await world.run.value
        #expect(outcome == .badConfiguration(worker: "notifier"))
        #expect(outcome.exitCode == 78)
        #expect(await world.host.spawns(of: "notifier") == 1)
        #expect(await world.host.spawns(of: "alert-worker") == 0)
    }

    @Test func exitCode78AfterReadyStopsTheOthersAndExits78() async throws {
        let world = World(behaviours: ["node-watcher-1": [.exitsAfterReady(78)]])
        let outcome = await world.run.value
        #expect(outcome == .badConfiguration(worker: "node-watcher-1"))
        #expect(await world.host.spawns(of: "node-watcher-1") == 1)
        #expect(await world.host.liveCount == 0)
    }

    @Test func notifierFinishingEndsTheRunWithExitCode0WithAnAlertLimit() async throws {
        var settings = Self.settings()
        settings.notifierMayFinish = true
        let world = World(behaviours: ["notifier": [.exitsAfterReady(0)]], settings: settings)
        let outcome = await world.run.value
        #expect(outcome == .completed(reason: "the notifier finished its work"))
        #expect(await world.host.liveCount == 0)
    }

    @Test func notifierExiting0WithoutAnAlertLimitIsRestarted() async throws {
        let world = World(behaviours: ["notifier": [.exitsAfterReady(0)]])
        try await world.waitUntilReady()
        #expect(await world.host.spawns(of: "notifier") == 2)
        #expect(await world.stop() == .completed(reason: "test over"))
    }

    @Test func ctlRestartRestartsOnlyThatWorker() async throws {
        let world = World()
        try await world.waitUntilReady()
        let before = await world.host.pid(of: "alert-worker")
        let others = await ["notifier", "fork-worker", "node-watcher-0", "node-watcher-1"].asyncMap { await world.host.pid(of: $0) }

        let response = try await world.channel.ctl(CtlRequest(command: "restart", target: "alert-worker"), peer: "ctl-1")
        #expect(response.ok)
        #expect(response.message.contains("restarting alert-worker"))
        let after = try await eventuallyValue(every: .milliseconds(5), "alert-worker replaced") { () async -> Int32? in
            let pid = await world.host.pid(of: "alert-worker")
            return pid != before ? pid : nil
        }
        #expect(after != before)
        let log = await world.host.log
        #expect(log.contains(.command("alert-worker", .shutdown(reason: "restart requested"))))
        #expect(await ["notifier", "fork-worker", "node-watcher-0", "node-watcher-1"].asyncMap { await world.host.pid(of: $0) } == others)

        let status = try await world.channel.ctl(CtlRequest(command: "status"), peer: "ctl-2")
        #expect(status.ok)
        #expect(status.workers?.map(\.name) == ["notifier", "alert-worker", "fork-worker", "node-watcher-0", "node-watcher-1"])
        #expect(status.workers?.first { $0.name == "alert-worker" }?.restarts == 1)

        let unknown = try await world.channel.ctl(CtlRequest(command: "restart", target: "nope"), peer: "ctl-3")
        #expect(!unknown.ok)
        #expect(unknown.message.contains("node-watcher-0"))
        #expect(await world.stop().exitCode == 0)
    }

    @Test func ctlIsolateAndRestoreReachTheForkWorkerAndIsolationsAreResentAfterItsRestart() async throws {
        let world = World()
        try await world.waitUntilReady()
        let unknown = try await world.channel.ctl(CtlRequest(command: "isolate", target: "ws://nope:1"), peer: "ctl-1")
        #expect(!unknown.ok)
        #expect(unknown.message.contains("no node ws://nope:1") && unknown.message.contains("ws://b:9944 (node-watcher-1)"))
        let missing = try await world.channel.ctl(CtlRequest(command: "restore"), peer: "ctl-2")
        #expect(!missing.ok)

        let isolated = try await world.channel.ctl(CtlRequest(command: "isolate", target: "node-watcher-1"), peer: "ctl-3")
        #expect(isolated.ok, "\(isolated.message)")
        let isolate = WorldEvent.command("fork-worker", .isolateNode(node: "ws://b:9944"))
        _ = try await eventuallyValue(every: .milliseconds(5), "isolate sent") { await world.host.log.contains(isolate) ? true : nil }
        #expect(await world.supervisor.manualIsolations == ["ws://b:9944"])
        let status = try await world.channel.ctl(CtlRequest(command: "status"), peer: "ctl-3b")
        #expect(status.message.hasSuffix("; isolated by hand: ws://b:9944"), "\(status.message)")

        // A new fork-worker process is told again once it is READY.
        let before = await world.host.pid(of: "fork-worker")
        #expect(try await world.channel.ctl(CtlRequest(command: "restart", target: "fork-worker"), peer: "ctl-4").ok)
        _ = try await eventuallyValue(every: .milliseconds(5), "isolation re-sent") { await world.host.log.filter { $0 == isolate }.count == 2 ? true : nil }
        #expect(await world.host.pid(of: "fork-worker") != before)

        let restored = try await world.channel.ctl(CtlRequest(command: "restore", target: "ws://b:9944"), peer: "ctl-5")
        #expect(restored.ok)
        _ = try await eventuallyValue(every: .milliseconds(5), "restore sent") {
            await world.host.log.contains(.command("fork-worker", .restoreNode(node: "ws://b:9944"))) ? true : nil
        }
        #expect(await world.supervisor.manualIsolations.isEmpty)
        // Restored: a later fork-worker restart re-sends nothing.
        #expect(try await world.channel.ctl(CtlRequest(command: "restart", target: "fork-worker"), peer: "ctl-6").ok)
        _ = try await eventuallyValue(every: .milliseconds(5), "fork-worker restarted twice") { await world.host.spawns(of: "fork-worker") == 3 ? true : nil }
        try await world.waitUntilReady()
        try await Task.sleep(for: .milliseconds(200))
        #expect(await world.host.log.filter { $0 == isolate }.count == 2)
        #expect(await world.stop().exitCode == 0)
    }

    @Test func restartsOfCrashedWorkersAreNoticedToTheAlertWorkerAndResentToANewOne() async throws {
        let world = World(behaviours: ["node-watcher-1": [.exitsAfterReady(3)]])
        try await world.waitUntilReady()
        func notices(to peer: String) async -> [SupervisorCommand] {
            await world.host.log.compactMap { event -> SupervisorCommand? in
                guard case .command(peer, let command) = event, case .workerRestarted = command else { return nil }
                return command
            }
        }
        let first = try await eventuallyValue(every: .milliseconds(5), "notice sent") { () async -> SupervisorCommand? in await notices(to: "alert-worker").first }
        guard case .workerRestarted(let worker, let restart, let lastExit) = first else { Issue.record("not a restart notice"); return }
        #expect(worker == "node-watcher-1" && restart == 1)
        #expect(lastExit.contains("3"), "\(lastExit)")
        // A new alert-worker process gets the run's notices again (its alert ids make them idempotent).
        #expect(try await world.channel.ctl(CtlRequest(command: "restart", target: "alert-worker"), peer: "ctl-1").ok)
        _ = try await eventuallyValue(every: .milliseconds(5), "re-sent") { await notices(to: "alert-worker").count == 2 ? true : nil }
        #expect(await world.supervisor.restartNotices.count == 1, "a ctl restart is not a crash")
        #expect(await world.stop().exitCode == 0)
    }

    @Test func transientSpawnFailureIsRetriedWithBackoff() async throws {
        let world = World(behaviours: ["alert-worker": [.spawnFails, .spawnFails]])
        try await world.waitUntilReady()
        let log = await world.host.log
        #expect(log.filter { $0 == .spawnFailed("alert-worker") }.count == 2)
        #expect(await world.host.spawns(of: "alert-worker") == 1)
        let row = await world.supervisor.statusRows().first { $0.name == "alert-worker" }
        #expect(row?.restarts == 2)
        #expect(await world.stop().exitCode == 0)
    }

    @Test func spawnFailingEveryTimeEscalates() async throws {
        let world = World(behaviours: ["notifier": Array(repeating: .spawnFails, count: 10)])
        let outcome = await world.run.value
        #expect(outcome.exitCode == 1)
        #expect(await world.host.log.filter { $0 == .spawnFailed("notifier") }.count == 4)
    }

    @Test func controlSocketDyingStopsEverythingWithExit1() async throws {
        let world = World()
        try await world.waitUntilReady()
        world.channel.breakDown()
        let outcome = await world.run.value
        #expect(outcome == .failed("the control socket closed unexpectedly"))
        #expect(outcome.exitCode == 1)
        #expect(await world.host.liveCount == 0)
    }

    @Test func shutdownNeverOutlastsItsBudget() async throws {
        var settings = Self.settings()
        settings.stopTimeout = .seconds(30)
        settings.notifierStopTimeout = .seconds(30)
        settings.shutdownBudget = .milliseconds(150)
        settings.heartbeatInterval = .seconds(5)  // the hanging workers must not be replaced first
        let hang: [String: [FakeBehaviour]] = ["node-watcher-0": [.hangsAfterReady], "node-watcher-1": [.hangsAfterReady]]
        let world = World(behaviours: hang, settings: settings)
        try await world.waitUntilReady()
        let started = ContinuousClock.now
        let outcome = await world.stop()
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(outcome.exitCode == 0)
        let log = await world.host.log
        #expect(log.contains(.signaled("node-watcher-0", SIGKILL)))
        #expect(await world.host.liveCount == 0)
    }

    @Test func workerThatNeverReportsReadyIsReplaced() async throws {
        var settings = Self.settings()
        settings.readyTimeout = .milliseconds(100)
        let world = World(behaviours: ["notifier": [.silent]], settings: settings)
        try await world.waitUntilReady()
        #expect(await world.host.spawns(of: "notifier") == 2)
        let log = await world.host.log
        #expect(Array(log.prefix(4)) == [
            .spawned("notifier"), .signaled("notifier", SIGTERM), .exited("notifier", .exited(0)), .spawned("notifier"),
        ])
        #expect(await world.stop().exitCode == 0)
    }
}

/// A value behind a lock, shareable between the supervisor's callbacks and the test.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}

extension Array where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async -> T) async -> [T] {
        var result: [T] = []
        for element in self { result.append(await transform(element)) }
        return result
    }
}
