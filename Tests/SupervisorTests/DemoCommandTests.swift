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
    /// `supervisor demo` with real processes: the devnode, the four workers, shut down in order; exit 0.
    @Suite struct DemoCommandTests {
        @Test("supervisor demo runs a scenario end to end and exits 0 within the bound")
        func demoExitsZero() async throws {
            let scratch = try ScratchDirectory()
            defer { scratch.remove() }
            let scenario = scratch.path + "/scenario.toml"
            try """
            name = "short-demo"
            history = 10
            block_interval_ms = 100
            end_at = 40

            [[actions]]
            kind = "sudo"
            at = 14

            [[actions]]
            kind = "large_transfer"
            at = 16

            [[forks]]
            at = 20
            length = 2

            [[forks]]
            at = 26
            length = 3
            reorg = true

            [[stalls]]
            at = 30
            duration_ms = 500
            """.write(toFile: scenario, atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: BuildProducts.supervisor)
            process.arguments = ["demo", "--scenario", scenario, "--settle", "1", "--timeout", "60"]
            process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CHAIN_ALERTER_") }
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            _ = FileManager.default.createFile(atPath: scratch.path + "/err", contents: nil)
            process.standardError = FileHandle(forWritingAtPath: scratch.path + "/err")
            let started = ContinuousClock.now
            try process.run()
            let deadline = ContinuousClock.now + .seconds(90)
            while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
            if process.isRunning {
                process.interrupt()
                Issue.record("supervisor demo did not finish within 90 s")
            }
            process.waitUntilExit()
            let log = (try? String(contentsOfFile: scratch.path + "/err", encoding: .utf8)) ?? ""
            #expect(process.terminationStatus == 0, "\(log.suffix(3000))")
            #expect(log.contains("chain=Autonomys Devnode"), "the node-watcher reached the devnode")
            #expect(log.contains("ended at block 40"))
            #expect(log.contains("demo finished"))
            #expect(ContinuousClock.now - started < .seconds(60))
        }
    }
}
