/// Everything needed to start one worker process.
struct ProcessSpec: Sendable, Equatable {
    /// Absolute path of the executable.
    var executable: String
    /// The full argv, `argv[0]` included.
    var arguments: [String]
    /// The complete environment of the child (nothing is inherited implicitly).
    var environment: [String: String]
}

/// How a worker process ended, as `waitpid` reports it.
enum TerminationStatus: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    /// The conventional exit code for "bad configuration, do not retry" (sysexits `EX_CONFIG`).
    static let badConfigurationCode: Int32 = 78

    var description: String {
        switch self {
        case .exited(let code): return "exited with code \(code)"
        case .signaled(let signal): return "killed by signal \(signal)\(Self.signalName(signal).map { " (\($0))" } ?? "")"
        }
    }

    private static func signalName(_ signal: Int32) -> String? {
        switch signal {
        case 1: return "SIGHUP"
        case 2: return "SIGINT"
        case 6: return "SIGABRT"
        case 9: return "SIGKILL"
        case 11: return "SIGSEGV"
        case 15: return "SIGTERM"
        default: return nil
        }
    }
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
