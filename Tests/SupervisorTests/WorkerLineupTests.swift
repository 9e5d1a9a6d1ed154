import Testing
@testable import supervisor
@testable import WorkerRuntime
@testable import Wire
@testable import ControlPlane
@testable import Store
@testable import SubstrateRuntime
@testable import SubstratePrimitives
import TestKit

@Suite(.timeLimit(.minutes(1))) struct WorkerLineupTests {
    let lineup = WorkerLineup.make(
        nodeRPCURLs: ["ws://a:9944", "wss://b:443"],
        stateDirectory: "/var/lib/chain-alerter",
        workerDirectory: "/opt/chain-alerter/bin",
        forwardedArguments: ["--node-rpc-url", "ws://a:9944", "--node-rpc-url", "wss://b:443", "--slack=false"],
        environment: ["PATH": "/usr/bin", "CHAIN_ALERTER_NAME": "Mainnet", "NOTIFY_SOCKET": "/run/systemd/notify", "WATCHDOG_USEC": "1"],
        supervisorPID: 4242
    )

    @Test func startOrderAndNames() {
        #expect(lineup.map(\.name) == ["notifier", "alert-worker", "fork-worker", "node-watcher-0", "node-watcher-1"])
        #expect(lineup.map(\.role) == [.notifier, .alertWorker, .forkWorker, .nodeWatcher, .nodeWatcher])
    }

    @Test func executableBasenameIsTheRole() {
        #expect(lineup.map(\.spec.executable) == [
            "/opt/chain-alerter/bin/notifier", "/opt/chain-alerter/bin/alert-worker", "/opt/chain-alerter/bin/fork-worker",
            "/opt/chain-alerter/bin/node-watcher", "/opt/chain-alerter/bin/node-watcher",
        ])
    }

    @Test func argumentsAreForwardedVerbatimAndWatchersGetTheirNode() {
        let forwarded = ["--node-rpc-url", "ws://a:9944", "--node-rpc-url", "wss://b:443", "--slack=false"]
        #expect(lineup[0].spec.arguments == ["notifier"] + forwarded)
        #expect(lineup[3].spec.arguments == ["node-watcher"] + forwarded + ["--watch-node", "ws://a:9944"])
        #expect(lineup[4].spec.arguments == ["node-watcher"] + forwarded + ["--watch-node", "wss://b:443"])
    }

    @Test func environmentCarriesControlVariablesAndDropsSystemdOnes() {
        let env = lineup[4].spec.environment
        #expect(env[WorkerEnvironment.controlEndpoint] == "ipc:///var/lib/chain-alerter/control.sock")
        #expect(env[WorkerEnvironment.workerName] == "node-watcher-1")
        #expect(env[WorkerEnvironment.stateDirectory] == "/var/lib/chain-alerter")
        #expect(env[WorkerEnvironment.supervisorPID] == "4242")
        #expect(env["CHAIN_ALERTER_NAME"] == "Mainnet")
        #expect(env["PATH"] == "/usr/bin")
        #expect(env["NOTIFY_SOCKET"] == nil)
        #expect(env["WATCHDOG_USEC"] == nil)
    }

    @Test func forwardedArgumentsDropArgv0AndTheRunSubcommand() {
        #expect(RunCommand.forwardedArguments(["/bin/supervisor", "run", "--name", "X"]) == ["--name", "X"])
        #expect(RunCommand.forwardedArguments(["/bin/supervisor", "--name", "run"]) == ["--name", "run"])
        #expect(RunCommand.forwardedArguments(["supervisor"]) == [])
    }

    @Test func tuningOverridesFromTheEnvironment() {
        let settings = SupervisorSettings.fromEnvironment([
            "CHAIN_ALERTER_TUNING": "supervisor.heartbeat=200,supervisor.grace=100,supervisor.backoff=50,supervisor.restarts=2,supervisor.bogus=1,supervisor.stop=x",
        ])
        #expect(settings.heartbeatInterval == .milliseconds(200))
        #expect(settings.hungKillGrace == .milliseconds(100))
        #expect(settings.restart.initialBackoff == .milliseconds(50))
        #expect(settings.restart.maximumRestarts == 2)
        #expect(settings.stopTimeout == SupervisorSettings().stopTimeout)
        let defaults = SupervisorSettings.fromEnvironment([:])
        #expect(defaults == SupervisorSettings())
        #expect(defaults.heartbeatInterval == .seconds(1))
        #expect(defaults.missedHeartbeats == 3)
    }

    @Test func statusTableIsAligned() {
        let table = StatusTable.render([
            WorkerStatus(name: "notifier", role: .notifier, pid: 12, state: "running", uptimeSeconds: 3725, restarts: 0, lastExit: nil),
            WorkerStatus(name: "node-watcher-0", role: .nodeWatcher, pid: nil, state: "backoff", uptimeSeconds: nil, restarts: 3, lastExit: "exited with code 1"),
        ])
        #expect(table == """
            WORKER          PID  STATE    UPTIME  RESTARTS  LAST EXIT
            notifier        12   running  1h02m   0         -
            node-watcher-0  -    backoff  -       3         exited with code 1
            """)
        #expect(StatusTable.formatUptime(42.9) == "42s")
        #expect(StatusTable.formatUptime(187) == "3m07s")
        #expect(StatusTable.formatUptime(2 * 86400 + 3 * 3600) == "2d03h")
    }
}
