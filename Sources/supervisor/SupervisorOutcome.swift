/// How a supervisor run ended; decides the process exit code.
enum SupervisorOutcome: Sendable, Equatable, CustomStringConvertible {
    /// Stopped on request (SIGTERM/SIGINT), or the notifier finished its work (`--alert-limit`).
    case completed(reason: String)
    /// A worker restarted too often: exit 1 so that systemd restarts the whole tree.
    case escalated(worker: String, reason: String)
    /// A worker exited 78: its configuration is bad, nothing will fix that by retrying.
    case badConfiguration(worker: String)
    /// Something the supervisor cannot work around (e.g. a missing worker executable).
    case failed(String)

    var exitCode: Int32 {
        switch self {
        case .completed: return 0
        case .escalated, .failed: return 1
        case .badConfiguration: return 78
        }
    }

    var description: String {
        switch self {
        case .completed(let reason): return "stopped: \(reason)"
        case .escalated(let worker, let reason): return "giving up: \(worker) \(reason); exiting 1 so that systemd restarts the whole tree"
        case .badConfiguration(let worker): return "\(worker) exited 78 (bad configuration); fix the configuration (`supervisor check-config` shows it) and start again"
        case .failed(let message): return "failed: \(message)"
        }
    }
}

/// What the supervisor tells the service manager (wired to sd_notify in production).
enum LifecycleEvent: Sendable, Equatable {
    /// Every worker reported READY for the first time.
    case ready
    /// A one-line summary changed.
    case status(String)
    /// The loop is alive (sent on every tick; the notifier rate-limits the watchdog pings).
    case alive
    /// Shutdown began.
    case stopping
}
