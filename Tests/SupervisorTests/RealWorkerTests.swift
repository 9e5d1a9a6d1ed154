import Foundation
import Testing
@testable import supervisor
@testable import WorkerRuntime
@testable import Wire
@testable import ControlPlane
@testable import Store
@testable import SubstrateRuntime
@testable import SubstratePrimitives
import TestKit

extension RealProcesses {
    /// The real `supervisor` with the real worker executables from the build directory: READY and
    /// heartbeats over the real control socket, real signals, /proc as the witness.
    @Suite(.serialized, .timeLimit(.minutes(2)))
    struct RealWorkerTests {
        static let nodes = ["--node-rpc-url", "ws://127.0.0.1:1", "--node-rpc-url", "ws://127.0.0.1:2"]
        static let names = ["notifier", "alert-worker", "fork-worker", "node-watcher-0", "node-watcher-1"]

        @Test func killNineOfAnyWorkerIsRunningAgainWithin2sOthersUndisturbed() async throws {
            // Production restart timings: the first restart of a worker is at most 1 s after its exit.
            try await withSupervisor(arguments: Self.nodes, tuning: "") { supervisor in
                var pids = try await supervisor.waitUntilAllReady(Self.names)
                for victim in Self.names {
                    let old = try #require(pids[victim])
                    let killedAt = ContinuousClock.now
                    kill(old, SIGKILL)
                    let new = try await eventuallyValue(timeout: .seconds(2), every: .milliseconds(5), "\(victim) back") { () -> Int32? in
                        guard let pid = supervisor.workers()[victim], pid != old, isAlive(pid) else { return nil }
                        return pid
                    }
                    #expect(ContinuousClock.now - killedAt < .seconds(2))
                    var expected = pids
                    expected[victim] = new
                    // Everybody else keeps their pid.
                    _ = try await eventuallyValue(timeout: .seconds(3), every: .milliseconds(5), "\(victim) ready") {
                        supervisor.log.contains("worker ready worker=\(victim) pid=\(new)") || supervisor.log.contains("pid=\(new) worker=\(victim)") ? true : nil
                    }
                    #expect(supervisor.workers() == expected)
                    pids = expected
                }
            }
        }

        @Test func stoppedWorkerIsDetectedAsHungAndReplaced() async throws {
            try await withSupervisor(arguments: Self.nodes, tuning: "grace=300,backoff=100") { supervisor in
                let pids = try await supervisor.waitUntilAllReady(Self.names)
                let victim = try #require(pids["fork-worker"])
                kill(victim, SIGSTOP)
                // 3 missed heartbeats (1 s each), SIGTERM (ignored while stopped), SIGKILL after 300 ms, restart.
                let replacement = try await eventuallyValue(timeout: .seconds(10), every: .milliseconds(5), "fork-worker replaced") { () -> Int32? in
                    guard let pid = supervisor.workers()["fork-worker"], pid != victim else { return nil }
                    return pid
                }
                #expect(!isAlive(victim))
                #expect(isAlive(replacement))
                let log = supervisor.log
                #expect(log.contains("missed 3 heartbeats"))
                #expect(log.contains("sending SIGKILL"))
                var others = pids
                others["fork-worker"] = nil
                #expect(supervisor.workers().filter { $0.key != "fork-worker" } == others)
            }
        }

        @Test(arguments: [SIGTERM, SIGINT])
        func stopSignalStopsWorkersInReverseOrderAndLeavesNoOrphans(signal: Int32) async throws {
            try await withSupervisor(arguments: Self.nodes, tuning: "") { supervisor in
                _ = try await supervisor.waitUntilAllReady(Self.names)
                let sentAt = ContinuousClock.now
                kill(supervisor.pid, signal)
                let status = await supervisor.waitForExit(within: .seconds(15))
                #expect(status == .exited(0))
                #expect(ContinuousClock.now - sentAt < .seconds(15))
                #expect(supervisor.processes().isEmpty, "left behind: \(supervisor.processes())")
                let stopped = supervisor.log.components(separatedBy: "\n")
                    .filter { $0.contains("stopping worker") }
                    .compactMap { line in Self.names.first { line.contains("worker=\($0) ") || line.hasSuffix("worker=\($0)") } }
                #expect(stopped == ["node-watcher-0", "node-watcher-1", "fork-worker", "alert-worker", "notifier"])
            }
        }

        @Test func workersGetTheirArgvEnvironmentAndOwnProcessGroup() async throws {
            try await withSupervisor(arguments: Self.nodes + ["--name", "Argv Test"], tuning: "") { supervisor in
                let pids = try await supervisor.waitUntilAllReady(Self.names)
                func argv(_ pid: Int32) -> [String] {
                    let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()
                    return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                }
                // `--http-listen 127.0.0.1:0` is what `withSupervisor` adds so tests never hold the default port.
                let forwarded = ["--slack=false", "--state-dir", supervisor.stateDirectory, "--http-listen", "127.0.0.1:0"]
                    + Self.nodes + ["--name", "Argv Test"]
                #expect(argv(pids["notifier"]!) == ["notifier"] + forwarded)
                #expect(argv(pids["node-watcher-1"]!) == ["node-watcher"] + forwarded + ["--watch-node", "ws://127.0.0.1:2"])
                let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pids["fork-worker"]!)/exe")
                #expect(exe == BuildProducts.directory + "/fork-worker")
                let env = LaunchedSupervisor.environment(of: pids["node-watcher-1"]!)
                #expect(env["CHAIN_ALERTER_CONTROL_ENDPOINT"] == "ipc://\(supervisor.stateDirectory)/control.sock")
                #expect(env["CHAIN_ALERTER_WORKER_NAME"] == "node-watcher-1")
                #expect(env["CHAIN_ALERTER_STATE_DIR"] == supervisor.stateDirectory)
                #expect(env["CHAIN_ALERTER_SUPERVISOR_PID"] == String(supervisor.pid))
                for pid in pids.values {
                    #expect(getpgid(pid) == pid, "a worker leads its own process group")
                    // The supervisor's descriptors (e.g. its state-directory lock) are not inherited.
                    let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
                    let targets = fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)") }
                    #expect(!targets.contains(supervisor.stateDirectory + "/supervisor.lock"), "\(targets)")
                }
            }
        }

        @Test func workersExitWhenTheSupervisorIsKilled() async throws {
            try await withSupervisor(arguments: Self.nodes, tuning: "") { supervisor in
                let pids = try await supervisor.waitUntilAllReady(Self.names)
                kill(supervisor.pid, SIGKILL)
                _ = try await eventuallyValue(timeout: .seconds(5), every: .milliseconds(5), "every worker gone") {
                    pids.values.allSatisfy { !isAlive($0) } && supervisor.processes().isEmpty ? true : nil
                }
            }
        }

        @Test func ctlStatusAndRestartAgainstARunningSupervisor() async throws {
            try await withSupervisor(arguments: Self.nodes, tuning: "") { supervisor in
                let pids = try await supervisor.waitUntilAllReady(Self.names)

                let status = try await supervisor.ctl(["status"])
                #expect(status.status == .exited(0), "\(status.output)")
                for name in Self.names {
                    #expect(status.output.contains(name))
                    #expect(status.output.contains(String(pids[name] ?? -1)))
                }
                #expect(status.output.contains("WORKER"))
                #expect(status.output.contains("running"))

                let json = try await supervisor.ctl(["status", "--json"])
                let response = try JSONDecoder().decode(CtlResponse.self, from: Data(json.output.utf8))
                #expect(response.workers?.map(\.name) == Self.names)
                #expect(response.workers?.allSatisfy { $0.state == "running" } == true)

                let restart = try await supervisor.ctl(["restart", "alert-worker"])
                #expect(restart.status == .exited(0), "\(restart.output)")
                #expect(restart.output.contains("restarting alert-worker"))
                let new = try await eventuallyValue(timeout: .seconds(10), every: .milliseconds(5), "alert-worker restarted") { () -> Int32? in
                    guard let pid = supervisor.workers()["alert-worker"], pid != pids["alert-worker"] else { return nil }
                    return pid
                }
                #expect(!isAlive(pids["alert-worker"] ?? 0))
                var others = pids
                others["alert-worker"] = new
                #expect(supervisor.workers() == others)

                let after = try await supervisor.ctl(["status", "--json"])
                let rows = try JSONDecoder().decode(CtlResponse.self, from: Data(after.output.utf8)).workers ?? []
                #expect(rows.first { $0.name == "alert-worker" }?.restarts == 1)
                #expect(rows.first { $0.name == "notifier" }?.restarts == 0)

                let waited = try await supervisor.ctl(["restart", "fork-worker", "--wait", "10"])
                #expect(waited.status == .exited(0), "\(waited.output)")
                let forkPID = try #require(supervisor.workers()["fork-worker"])
                #expect(forkPID != pids["fork-worker"])
                #expect(waited.output.contains("fork-worker is running again (pid \(forkPID))"))

                let unknown = try await supervisor.ctl(["restart", "no-such-worker"])
                #expect(unknown.status == .exited(1))
                #expect(unknown.output.contains("node-watcher-0"))
            }
        }

        @Test func tellsSystemdReadyStatusWatchdogAndStopping() async throws {
            // Read like systemd does, all the time: the datagram queue holds only max_dgram_qlen messages.
            let socket = try NotifyCollector(NotifySocket(abstract: false))
            defer { socket.stop() }
            // WATCHDOG_USEC = 200 ms: a WATCHDOG=1 every 100 ms while the loop is healthy.
            let environment = ["NOTIFY_SOCKET": socket.socket.address, "WATCHDOG_USEC": "200000"]
            try await withSupervisor(arguments: Self.nodes, tuning: "", extraEnvironment: environment) { supervisor in
                _ = try await supervisor.waitUntilAllReady(Self.names)
                try await Task.sleep(for: .milliseconds(500))
                var messages = socket.drain()
                #expect(messages.contains { $0.hasPrefix("READY=1") && $0.contains("STATUS=5/5 workers running") }, "\(messages)")
                #expect(messages.filter { $0 == "WATCHDOG=1" }.count >= 3, "\(messages)")
                #expect(messages.contains { $0.hasPrefix("STATUS=") })
                // The workers do not see systemd's variables.
                for pid in supervisor.workers().values {
                    #expect(LaunchedSupervisor.environment(of: pid)["NOTIFY_SOCKET"] == nil)
                }
                kill(supervisor.pid, SIGTERM)
                #expect(await supervisor.waitForExit(within: .seconds(15)) == .exited(0))
                messages = socket.drain()
                #expect(messages.contains("STOPPING=1"), "\(messages)")
            }
        }

        @Test func secondSupervisorOnTheSameStateDirectoryRefusesToStart() async throws {
            try await withSupervisor(arguments: Self.nodes, tuning: "") { supervisor in
                let pids = try await supervisor.waitUntilAllReady(Self.names)
                let intruder = try await LaunchedSupervisor(
                    arguments: Self.nodes + ["--state-dir", supervisor.stateDirectory], tuning: "", scratch: try ScratchDirectory()
                )
                let status = await intruder.waitForExit(within: .seconds(10))
                let log = intruder.log
                await intruder.cleanUp()
                #expect(status == .exited(1))
                #expect(log.contains("another supervisor is already running"), "\(log)")
                #expect(supervisor.workers() == pids)
                let answer = try await supervisor.ctl(["status"])
                #expect(answer.status == .exited(0))
            }
        }

        @Test func inheritedIgnoredSIGCHLDDoesNotBreakExitDetection() async throws {
            // With SIGCHLD ignored, the kernel would reap children itself and waitpid could not see exits.
            try await withSupervisor(arguments: Self.nodes, tuning: "backoff=50", shellPrefix: "trap '' CHLD;") { supervisor in
                let pids = try await supervisor.waitUntilAllReady(Self.names)
                let victim = try #require(pids["alert-worker"])
                kill(victim, SIGTERM)  // a clean exit 0, which only a real waitpid status can report
                _ = try await eventuallyValue(timeout: .seconds(5), every: .milliseconds(5), "alert-worker back") { () -> Int32? in
                    guard let pid = supervisor.workers()["alert-worker"], pid != victim else { return nil }
                    return pid
                }
                #expect(supervisor.log.contains("exit=exited with code 0 pid=\(victim) worker=alert-worker"), "\(supervisor.log)")
            }
        }

        @Test func ctlWithoutASupervisorSaysSo() async throws {
            let scratch = try ScratchDirectory()
            defer { scratch.remove() }
            let host = POSIXProcessHost()
            let out = scratch.path + "/out"
            _ = try await host.spawn(ProcessSpec(
                executable: "/bin/sh",
                arguments: ["sh", "-c", "exec \"$0\" ctl status --timeout 1 --state-dir \(scratch.path) >\(out) 2>&1", BuildProducts.supervisor],
                environment: [:]
            ))
            var status: TerminationStatus?
            for await exit in host.exits { status = exit.status; break }
            #expect(status == .exited(1))
            let output = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            #expect(output.contains("supervisor ctl:"))
        }
    }
}
