import WorkerRuntime
import Wire
import ControlPlane
import Store
import SubstrateRuntime
import SubstratePrimitives

/// One worker the supervisor keeps alive: its instance name, role and how to start it.
struct WorkerSlot: Sendable, Equatable {
    /// Unique instance name (`notifier`, `node-watcher-0`, …).
    var name: String
    var role: WorkerRole
    var spec: ProcessSpec
}

/// Builds the list of workers, in start order, with their argv and environment. This is the one
/// place that decides what a worker is started with.
enum WorkerLineup {
    /// Environment variables that belong to the supervisor alone (systemd's notification and
    /// watchdog protocol): a worker must not inherit them, or it could talk to systemd itself.
    static let supervisorOnlyEnvironment: Set<String> = [
        "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
    ]

    /// The control endpoint for a state directory.
    static func controlEndpoint(stateDirectory: String) -> String {
        BusEndpoints.control(stateDirectory: stateDirectory)
    }

    /// Start order: notifier, alert-worker, fork-worker, then one node-watcher per node URL.
    ///
    /// - Parameters:
    ///   - nodeRPCURLs: the resolved `--node-rpc-url` list; node-watcher-*i* watches the *i*-th.
    ///   - stateDirectory: where the control socket and the data-path sockets live.
    ///   - workerDirectory: the directory holding the worker executables (named by role).
    ///   - forwardedArguments: the user's option arguments, passed verbatim to every worker so that
    ///     every process resolves the same configuration.
    ///   - environment: the supervisor's environment; workers inherit it (it may carry
    ///     `CHAIN_ALERTER_*` options) minus systemd's variables, plus the control variables.
    ///   - supervisorPID: the supervisor's pid, so that a worker can exit when it is orphaned.
    static func make(
        nodeRPCURLs: [String],
        stateDirectory: String,
        workerDirectory: String,
        forwardedArguments: [String],
        environment: [String: String],
        supervisorPID: Int32
    ) -> [WorkerSlot] {
        var baseEnvironment = environment.filter { !supervisorOnlyEnvironment.contains($0.key) }
        baseEnvironment[WorkerEnvironment.controlEndpoint] = controlEndpoint(stateDirectory: stateDirectory)
        baseEnvironment[WorkerEnvironment.stateDirectory] = stateDirectory
        baseEnvironment[WorkerEnvironment.supervisorPID] = String(supervisorPID)

        func slot(_ name: String, _ role: WorkerRole, extra: [String] = []) -> WorkerSlot {
            var env = baseEnvironment
            env[WorkerEnvironment.workerName] = name
            let executable = workerDirectory.hasSuffix("/")
                ? workerDirectory + role.rawValue : workerDirectory + "/" + role.rawValue
            return WorkerSlot(
                name: name, role: role,
                spec: ProcessSpec(executable: executable, arguments: [role.rawValue] + forwardedArguments + extra, environment: env)
            )
        }

        var slots = [
            slot("notifier", .notifier),
            slot("alert-worker", .alertWorker),
            slot("fork-worker", .forkWorker),
        ]
        for (index, url) in nodeRPCURLs.enumerated() {
            slots.append(slot("node-watcher-\(index)", .nodeWatcher, extra: ["--watch-node", url]))
        }
        return slots
    }
}

extension WorkerLineup {
    /// The lineup for a resolved configuration.
    static func make(
        configuration: Configuration,
        workerDirectory: String,
        forwardedArguments: [String],
        environment: [String: String],
        supervisorPID: Int32
    ) -> [WorkerSlot] {
        make(
            nodeRPCURLs: configuration.nodeRPCURLs,
            stateDirectory: configuration.stateDirectory,
            workerDirectory: workerDirectory,
            forwardedArguments: forwardedArguments,
            environment: environment,
            supervisorPID: supervisorPID
        )
    }
}
