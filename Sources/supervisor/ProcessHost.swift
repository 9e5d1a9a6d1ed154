/// Everything needed to start one worker process.
struct ProcessSpec: Sendable, Equatable {
    /// Absolute path of the executable.
    var executable: String
    /// The full argv, `argv[0]` included.
    var arguments: [String]
    /// The complete environment of the child (nothing is inherited implicitly).
    var environment: [String: String]
}

/// A process that ended, as reported by the host.
struct ProcessExit: Sendable, Equatable {
    var pid: Int32
    var status: TerminationStatus
}

/// Why a process could not be started. The message says what to check.
enum SpawnError: Error, Equatable, CustomStringConvertible {
    case executableMissing(path: String)
    case spawnFailed(path: String, errno: Int32, reason: String)

    var description: String {
        switch self {
        case .executableMissing(let path):
            return "worker executable \(path) does not exist or is not executable; build all products (`swift build`) or set CHAIN_ALERTER_WORKER_DIR to the directory holding node-watcher, fork-worker, alert-worker and notifier"
        case .spawnFailed(let path, let errno, let reason):
            return "could not start \(path): \(reason) (errno \(errno))"
        }
    }
}

/// Starts and signals processes and reports when they end. The supervisor only talks to this
/// protocol: `POSIXProcessHost` is the real thing, tests use a fake that records what happened.
protocol ProcessHost: Sendable {
    /// Every child that ends, exactly once, in the order they were reaped.
    var exits: AsyncStream<ProcessExit> { get }
    /// Starts a process; returns its pid.
    func spawn(_ spec: ProcessSpec) async throws(SpawnError) -> Int32
    /// Sends `signal` to `pid` (a process that already ended is not an error).
    func signal(_ pid: Int32, _ signal: Int32) async
}
