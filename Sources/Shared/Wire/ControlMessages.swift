import SubstratePrimitives
// The control plane: what workers, the supervisor and `supervisor ctl` say to each other.
// These are JSON payloads inside bus envelopes on the supervisor's ROUTER socket
// (ipc://<state-dir>/control.sock). Workers connect with a DEALER; ctl clients too.

/// What a worker process is. The raw value is the executable's basename.
public enum WorkerRole: String, Codable, Sendable, CaseIterable {
    case notifier = "notifier"
    case alertWorker = "alert-worker"
    case forkWorker = "fork-worker"
    case nodeWatcher = "node-watcher"
}

/// Worker → supervisor, once after start: the worker is READY.
public struct WorkerHello: Codable, Sendable, Equatable {
    /// Unique worker instance name as the supervisor gave it (e.g. `notifier`, `node-watcher-0`).
    public var worker: String
    public var role: WorkerRole
    public var pid: Int32

    public init(worker: String, role: WorkerRole, pid: Int32) {
        self.worker = worker
        self.role = role
        self.pid = pid
    }
}

/// Worker → supervisor, every second while the worker's main loop is alive.
public struct WorkerHeartbeat: Codable, Sendable, Equatable {
    public var worker: String
    public var pid: Int32
    public var sequence: UInt64
    /// Small free-form status the worker wants shown (e.g. `best_height`), may be empty.
    public var status: [String: String]
    /// The worker's metrics in Prometheus text format 0.0.4, at most `maxMetricsBytes`; nil (absent from the
    /// JSON) from workers that do not export metrics, including every worker built before this field existed.
    public var metrics: String?

    /// The control socket's frames are at most `Envelope.controlMaxFrameSize` (1 MiB); JSON escaping of the
    /// exposition (quotes, newlines) adds a little, so the text itself is kept well below that.
    public static let maxMetricsBytes = 512 * 1024

    public init(worker: String, pid: Int32, sequence: UInt64, status: [String: String] = [:], metrics: String? = nil) {
        self.worker = worker
        self.pid = pid
        self.sequence = sequence
        self.status = status
        self.metrics = metrics
    }
}

/// Supervisor → worker.
public enum SupervisorCommand: Codable, Sendable, Equatable {
    /// Finish in-flight work (the notifier drains its outbox) and exit 0.
    case shutdown(reason: String)
    /// To the fork-worker: isolate this node (URL as configured) until `restoreNode` (`supervisor ctl isolate`).
    /// The supervisor re-sends every manual isolation to a fork-worker that (re)starts.
    case isolateNode(node: String)
    /// To the fork-worker: lift a manual isolation (`supervisor ctl restore`).
    case restoreNode(node: String)
    /// To the alert-worker: the supervisor restarted a crashed or hung worker (its `restart`-th restart in this
    /// run), so a WorkerRestarted alert is raised. The supervisor sends every notice of the run again to each new
    /// alert-worker process; the alert id is stable per restart, so a notice given twice is stored once.
    case workerRestarted(worker: String, restart: Int, lastExit: String)
}

/// `supervisor ctl …` → supervisor.
public struct CtlRequest: Codable, Sendable, Equatable {
    /// `status`, `restart`, `isolate`, `restore`.
    public var command: String
    /// The worker or node the command is about, where it needs one.
    public var target: String?

    public init(command: String, target: String? = nil) {
        self.command = command
        self.target = target
    }
}

/// One row of `ctl status`.
public struct WorkerStatus: Codable, Sendable, Equatable {
    public var name: String
    public var role: WorkerRole
    public var pid: Int32?
    /// `starting`, `running`, `backoff`, `stopping`, `stopped`, `failed`.
    public var state: String
    public var uptimeSeconds: Double?
    public var restarts: Int
    public var lastExit: String?

    public init(name: String, role: WorkerRole, pid: Int32?, state: String, uptimeSeconds: Double?, restarts: Int, lastExit: String?) {
        self.name = name
        self.role = role
        self.pid = pid
        self.state = state
        self.uptimeSeconds = uptimeSeconds
        self.restarts = restarts
        self.lastExit = lastExit
    }
}

/// Supervisor → `supervisor ctl …`.
public struct CtlResponse: Codable, Sendable, Equatable {
    public var ok: Bool
    public var message: String
    public var workers: [WorkerStatus]?

    public init(ok: Bool, message: String, workers: [WorkerStatus]? = nil) {
        self.ok = ok
        self.message = message
        self.workers = workers
    }
}

/// Environment variables through which the supervisor tells a worker where it belongs.
public enum WorkerEnvironment {
    /// ipc:// endpoint of the supervisor's control ROUTER.
    public static let controlEndpoint = "CHAIN_ALERTER_CONTROL_ENDPOINT"
    /// The worker's instance name (`notifier`, `node-watcher-0`, …).
    public static let workerName = "CHAIN_ALERTER_WORKER_NAME"
    /// The state directory; data-path sockets live under it.
    public static let stateDirectory = "CHAIN_ALERTER_STATE_DIR"
    /// The supervisor's pid; a worker exits when its parent is no longer this pid.
    public static let supervisorPID = "CHAIN_ALERTER_SUPERVISOR_PID"
}
