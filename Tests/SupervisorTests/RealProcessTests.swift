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
    /// The real `supervisor` executable with real processes and real signals. Timings are shortened
    /// through the `supervisor.*` knobs of `CHAIN_ALERTER_TUNING`; every test kills what it started, even on failure.
    @Suite(.serialized, .timeLimit(.minutes(1)))
    struct RealProcessTests {
        @Test func crashingWorkerBacksOffThenSupervisorGivesUpWithExit1() async throws {
            try await withSupervisor(workerScript: "exit 1", tuning: "backoff=50,max-backoff=1000,min-uptime=2000,restarts=4,window=30000") { supervisor in
                let status = await supervisor.waitForExit(within: .seconds(20))
                #expect(status == .exited(1))
                let log = supervisor.log
                #expect(log.contains("giving up: notifier"), "log: \(log)")
                // One start plus four restarts, each after a longer backoff: 50, 100, 200, 400 ms.
                let spawns = log.components(separatedBy: "\n").filter { $0.contains("worker spawned") && $0.contains("worker=notifier") }
                #expect(spawns.count == 5)
                let delays = log.components(separatedBy: "\n").filter { $0.contains("restarting worker after backoff") }
                    .compactMap { line -> String? in line.range(of: "delay=").map { String(line[$0.upperBound...].prefix { $0 != " " }) } }
                let nominal = [0.05, 0.1, 0.2, 0.4]
                #expect(delays.count == nominal.count, "log: \(log)")
                for (delay, expected) in zip(delays.compactMap(Double.init), nominal) {
                    // The production jitter takes up to 20 % off the nominal delay.
                    #expect(delay <= expected && delay >= expected * 0.8, "delay \(delay) for nominal \(expected)")
                }
                #expect(supervisor.processes().isEmpty)
            }
        }

        @Test func workerExiting78StopsTheSupervisorWith78WithoutRetry() async throws {
            try await withSupervisor(workerScript: "exit 78", tuning: "backoff=10") { supervisor in
                let status = await supervisor.waitForExit(within: .seconds(15))
                #expect(status == .exited(78))
                let log = supervisor.log
                #expect(log.contains("notifier exited 78 (bad configuration)"), "log: \(log)")
                let spawns = log.components(separatedBy: "\n").filter { $0.contains("worker spawned") }
                #expect(spawns.count == 1)
            }
        }

        @Test func badSupervisorConfigurationExits78() async throws {
            try await withSupervisor(arguments: ["--node-rpc-url", "http://wrong"], tuning: "") { supervisor in
                #expect(await supervisor.waitForExit(within: .seconds(15)) == .exited(78))
                #expect(supervisor.log.contains("--node-rpc-url"))
            }
        }

        @Test func checkConfigPrintsTheRedactedConfigurationOrExits78() async throws {
            let good = try await runSupervisorCommand(["check-config", "--slack=false", "--name", "Mainnet", "--state-dir", "/tmp/ca-check"])
            #expect(good.status == .exited(0), "\(good.stderr)")
            #expect(good.stdout.contains("name = \"Mainnet\""))
            #expect(good.stdout.contains("state_dir = \"/tmp/ca-check\""))

            let bad = try await runSupervisorCommand(["check-config", "--slack=false", "--node-rpc-url", "http://x"])
            #expect(bad.status == .exited(78))
            #expect(bad.stdout.isEmpty)
            #expect(bad.stderr.contains("--node-rpc-url"))
            #expect(bad.stderr.contains("Fix:"))

            // Slack on (the default) without a secret file: 78, and the message says which option.
            let secret = try await runSupervisorCommand(["check-config", "--slack-secret-path", "/nonexistent/slack-secret"])
            #expect(secret.status == .exited(78))
            #expect(secret.stderr.contains("--slack-secret-path"))

            let typo = try await runSupervisorCommand(["--slack=false", "--nmae", "X"])
            #expect(typo.status == .exited(78))
            #expect(typo.stderr.contains("--nmae"))
        }

        @Test func missingWorkerExecutableIsAnActionableError() async throws {
            try await withSupervisor(workerScript: nil, tuning: "", missingWorkers: true) { supervisor in
                #expect(await supervisor.waitForExit(within: .seconds(15)) == .exited(1))
                #expect(supervisor.log.contains("CHAIN_ALERTER_WORKER_DIR"))
            }
        }
    }
}
