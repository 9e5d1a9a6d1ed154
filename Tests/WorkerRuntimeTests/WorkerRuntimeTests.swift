import Foundation
import MetricsTestKit
import Testing
@testable import WorkerRuntime
@testable import Wire
@testable import ControlPlane
import TestKit

@Suite struct WorkerConfigurationTests {
    @Test func defaultsWithoutSupervisor() throws {
        let configuration = try WorkerConfiguration.fromEnvironment([:], role: .notifier)
        #expect(configuration == WorkerConfiguration(role: .notifier, name: "notifier"))
        #expect(configuration.controlEndpoint == nil)
    }

    @Test func readsEverything() throws {
        let environment = [
            WorkerEnvironment.controlEndpoint: "ipc:///tmp/x/control.sock",
            WorkerEnvironment.workerName: "node-watcher-3",
            WorkerEnvironment.stateDirectory: "/tmp",
            WorkerEnvironment.supervisorPID: "4321",
            WorkerEnvironment.logLevel: "DEBUG",
        ]
        let configuration = try WorkerConfiguration.fromEnvironment(environment, role: .nodeWatcher)
        #expect(configuration == WorkerConfiguration(role: .nodeWatcher, name: "node-watcher-3", controlEndpoint: "ipc:///tmp/x/control.sock",
                                                     stateDirectory: "/tmp", supervisorPID: 4321, logLevel: .debug))
    }

    @Test(arguments: [
        (WorkerEnvironment.supervisorPID, "abc", WorkerConfigurationError.invalidSupervisorPID("abc")),
        (WorkerEnvironment.supervisorPID, "-5", .invalidSupervisorPID("-5")),
        (WorkerEnvironment.controlEndpoint, "/tmp/control.sock", .invalidControlEndpoint("/tmp/control.sock")),
        (WorkerEnvironment.workerName, "two words", .invalidWorkerName("two words")),
        (WorkerEnvironment.stateDirectory, "/does/not/exist", .stateDirectoryMissing("/does/not/exist")),
        (WorkerEnvironment.logLevel, "loud", .invalidLogLevel("loud")),
    ])
    func rejectsMalformedValues(key: String, value: String, expected: WorkerConfigurationError) {
        #expect(throws: expected) { _ = try WorkerConfiguration.fromEnvironment([key: value], role: .forkWorker) }
        #expect(expected.description.contains(key))
    }

    @Test func shutdownSignalDeliversTheFirstReasonToEveryWaiter() async {
        let signal = ShutdownSignal()
        async let first = signal.wait()
        async let second = signal.wait()
        try? await Task.sleep(for: .milliseconds(20))
        #expect(signal.request(reason: "one"))
        #expect(!signal.request(reason: "two"))
        #expect(await first == "one")
        #expect(await second == "one")
        #expect(await signal.wait() == "one")
    }
}

/// Runs the real worker executables against a ControlServer in this process.
@Suite(.serialized) struct WorkerProcessTests {
    static func executable(_ name: String) -> URL? {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(".build/debug/\(name)"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Starts a worker the way the supervisor would: with the shared options (no Slack, so no secret is
    /// needed) and a state directory of its own, never the repository's working directory.
    static func launch(_ name: String, environment: [String: String], arguments: [String] = ["--slack=false"]) throws -> Process {
        let process = Process()
        guard let url = executable(name) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "build the \(name) executable first (swift build)"])
        }
        process.executableURL = url
        process.arguments = arguments
        var environment = environment
        if environment[WorkerEnvironment.stateDirectory] == nil {
            environment[WorkerEnvironment.stateDirectory] = (try! TemporaryDirectory(prefix: "cab")).path
        }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func waitForExit(_ process: Process, timeout: Duration = .seconds(10)) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    @Test(arguments: WorkerRole.allCases)
    func workerIsReadyHeartbeatsAndObeysShutdown(role: WorkerRole) async throws {
        let directory = (try! TemporaryDirectory(prefix: "cab")).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let endpoint = "ipc://\(directory)/control.sock"
        let server = try ControlServer(endpoint: endpoint, logger: testLogger, metrics: BusMetrics(factory: TestMetrics()))
        defer { server.close() }
        let process = try Self.launch(role.rawValue, environment: [
            WorkerEnvironment.controlEndpoint: endpoint,
            WorkerEnvironment.workerName: "\(role.rawValue)-t",
            WorkerEnvironment.stateDirectory: directory,
            WorkerEnvironment.supervisorPID: "\(getpid())",
        ])
        defer { if process.isRunning { process.terminate() } }

        let events = await collect(2, from: server.events, timeout: .seconds(10))
        guard events.count == 2, case .hello(let hello, let peer) = events[0], case .heartbeat(let beat, _) = events[1] else {
            Issue.record("expected hello and a heartbeat from \(role), got \(events)")
            return
        }
        #expect(hello == WorkerHello(worker: "\(role.rawValue)-t", role: role, pid: process.processIdentifier))
        #expect(beat.pid == process.processIdentifier)
        try server.send(.shutdown(reason: "test"), to: peer)
        #expect(await Self.waitForExit(process) == 0)
    }

    @Test func sigtermIsAGracefulExit() async throws {
        let process = try Self.launch("notifier", environment: [:])
        try await Task.sleep(for: .milliseconds(300))
        process.terminate()
        #expect(await Self.waitForExit(process) == 0)
    }

    @Test func malformedConfigurationExits78() async throws {
        let process = try Self.launch("alert-worker", environment: [WorkerEnvironment.supervisorPID: "not-a-pid"])
        #expect(await Self.waitForExit(process) == 78)
    }

    @Test func workerExitsWhenItsSupervisorIsNotItsParent() async throws {
        // A supervisor pid that is not our parent is what an orphan sees after re-parenting.
        let process = try Self.launch("fork-worker", environment: [WorkerEnvironment.supervisorPID: "1"])
        #expect(await Self.waitForExit(process, timeout: .seconds(5)) != nil)
    }
}

/// A worker must not outlive its supervisor: PR_SET_PDEATHSIG plus the getppid() watch.
@Suite struct OrphanTests {
    static func state(of pid: Int32) -> String? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        return status.split(separator: "\n").first { $0.hasPrefix("State:") }.map(String.init)
    }

    @Test func workerExitsWhenItsSupervisorDies() async throws {
        guard let notifier = WorkerProcessTests.executable("notifier") else {
            Issue.record("build the notifier executable first (swift build)")
            return
        }
        // A stand-in supervisor: a shell that starts the worker, names itself as the supervisor, then dies.
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        // A valid configuration (no Slack, a state directory of its own), so only the supervisor's death ends it.
        let stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("orphan-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: stateDirectory) }
        shell.arguments = ["-c", "CHAIN_ALERTER_SUPERVISOR_PID=$$ \"$0\" --slack=false --state-dir \"$1\" >/dev/null 2>&1 & echo $!; sleep 2",
                           notifier.path, stateDirectory]
        let output = Pipe()
        shell.standardOutput = output
        try shell.run()
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        let worker = try #require(Int32(line.trimmingCharacters(in: .whitespacesAndNewlines)))
        try await Task.sleep(for: .milliseconds(500))
        let whileSupervised = Self.state(of: worker)
        #expect(whileSupervised != nil && !(whileSupervised!.contains("Z")), "the worker should run while its supervisor lives")
        shell.waitUntilExit()
        // Gone, or a zombie waiting for its new parent to reap it: either way no longer running.
        let exited = await eventually(timeout: .seconds(5)) {
            guard let state = Self.state(of: worker) else { return true }
            return state.contains("Z")
        }
        #expect(exited, "worker \(worker) outlived its supervisor: \(Self.state(of: worker) ?? "gone")")
        if !exited { kill(worker, SIGKILL) }
    }
}
