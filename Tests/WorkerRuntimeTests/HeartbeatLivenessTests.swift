import Foundation
import MetricsTestKit
import Synchronization
import Testing
@testable import ControlPlane
@testable import WorkerRuntime
@testable import Wire
import TestKit

/// Heartbeats must prove the worker's own concurrency is alive, not just that some thread is.
@Suite(.serialized) struct HeartbeatLivenessTests {
    /// Records when each heartbeat arrived at the server.
    final class Arrivals: Sendable {
        let times = Mutex<[ContinuousClock.Instant]>([])
        func longestGap() -> Duration {
            let list = times.withLock { $0 }
            return zip(list, list.dropFirst()).map { $1 - $0 }.max() ?? .zero
        }
        var count: Int { times.withLock { $0.count } }
    }

    static func record(_ server: ControlServer, into arrivals: Arrivals) -> Task<Void, Never> {
        Task.detached {
            for await event in server.events {
                if case .heartbeat = event { arrivals.times.withLock { $0.append(.now) } }
            }
        }
    }

    @Test @MainActor func heartbeatsStopWhileTheMainActorIsBlocked() async throws {
        let directory = (try! TemporaryDirectory(prefix: "cab")).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let endpoint = "ipc://\(directory)/control.sock"
        let server = try ControlServer(endpoint: endpoint, logger: testLogger, metrics: BusMetrics(factory: TestMetrics()))
        defer { server.close() }
        let arrivals = Arrivals()
        let recorder = Self.record(server, into: arrivals)
        defer { recorder.cancel() }
        let client = try WorkerControlClient(endpoint: endpoint, worker: "w", role: .notifier, logger: testLogger,
                                             metrics: BusMetrics(factory: TestMetrics()))
        defer { client.close() }
        let heartbeats = Task { @MainActor in await client.runHeartbeats(every: .milliseconds(20)) }
        defer { heartbeats.cancel() }

        try await Task.sleep(for: .milliseconds(200))
        #expect(arrivals.count >= 3)
        usleep(600_000)  // a stuck main loop
        try await Task.sleep(for: .milliseconds(200))
        #expect(arrivals.longestGap() >= .milliseconds(450), "heartbeats kept flowing while the main actor was blocked")
        let before = arrivals.count
        try await Task.sleep(for: .milliseconds(100))
        #expect(arrivals.count > before, "heartbeats did not resume")
    }

    @Test func sigstopSilencesAWorkerAndSigcontRevivesIt() async throws {
        let directory = (try! TemporaryDirectory(prefix: "cab")).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let endpoint = "ipc://\(directory)/control.sock"
        let server = try ControlServer(endpoint: endpoint, logger: testLogger, metrics: BusMetrics(factory: TestMetrics()))
        defer { server.close() }
        let arrivals = Arrivals()
        let recorder = Self.record(server, into: arrivals)
        defer { recorder.cancel() }
        let process = try WorkerProcessTests.launch("notifier", environment: [
            WorkerEnvironment.controlEndpoint: endpoint, WorkerEnvironment.supervisorPID: "\(getpid())",
        ])
        defer {
            kill(process.processIdentifier, SIGCONT)
            if process.isRunning { process.terminate() }
        }
        #expect(await eventually(timeout: .seconds(10)) { arrivals.count >= 2 })
        kill(process.processIdentifier, SIGSTOP)
        // Let a heartbeat already in flight land before counting.
        try await Task.sleep(for: .milliseconds(500))
        let stopped = arrivals.count
        try await Task.sleep(for: .milliseconds(2500))
        #expect(arrivals.count == stopped, "a stopped worker still heartbeats")
        kill(process.processIdentifier, SIGCONT)
        #expect(await eventually(timeout: .seconds(3)) { arrivals.count > stopped }, "heartbeats did not resume after SIGCONT")
        process.terminate()
        #expect(await WorkerProcessTests.waitForExit(process) == 0)
    }
}
