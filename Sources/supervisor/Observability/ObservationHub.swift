import Foundation
import Synchronization
import WorkerRuntime
import Wire
import ControlPlane
import Store
import SubstrateRuntime
import SubstratePrimitives

/// What the HTTP endpoints read: the supervisor's worker table and each worker's last heartbeat (with its
/// metrics). The supervisor writes it from its event loop with two cheap calls (a lock and a copy); the HTTP
/// side only reads snapshots, so a slow or stuck HTTP client can never hold up supervision.
final class ObservationHub: Sendable {
    /// A worker's last heartbeat.
    struct Report: Sendable {
        var pid: Int32
        var sequence: UInt64
        var metrics: String?
        var status: [String: String]
        var receivedAt: ContinuousClock.Instant
    }

    struct Snapshot: Sendable {
        var workers: [WorkerStatus]
        var reports: [String: Report]
        var shuttingDown: Bool
        var published: Bool
        var now: ContinuousClock.Instant
        var supervisorUptime: Double
    }

    private struct State {
        var workers: [WorkerStatus] = []
        var reports: [String: Report] = [:]
        var shuttingDown = false
        var published = false
    }

    private let state = Mutex(State())
    let startedAt = ContinuousClock.now
    /// Configured node URLs, the primary first.
    let nodes: [String]

    init(nodes: [String]) {
        self.nodes = nodes
    }

    /// From the supervisor's loop, for a heartbeat of a known worker. A heartbeat without metrics keeps the
    /// previous exposition of the same process.
    func heartbeat(_ beat: WorkerHeartbeat) {
        let now = ContinuousClock.now
        state.withLock { state in
            var metrics = beat.metrics
            if metrics == nil, let previous = state.reports[beat.worker], previous.pid == beat.pid { metrics = previous.metrics }
            state.reports[beat.worker] = Report(pid: beat.pid, sequence: beat.sequence, metrics: metrics, status: beat.status, receivedAt: now)
        }
    }

    /// From the supervisor's loop after every event: the `ctl status` rows.
    func update(workers: [WorkerStatus], shuttingDown: Bool) {
        state.withLock { state in
            state.workers = workers
            state.shuttingDown = shuttingDown
            state.published = true
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    func snapshot() -> Snapshot {
        let now = ContinuousClock.now
        let uptime = Self.seconds(startedAt.duration(to: now))
        return state.withLock { state in
            // A report counts only while it comes from the worker's current process.
            var reports: [String: Report] = [:]
            for row in state.workers {
                if let report = state.reports[row.name], report.pid == row.pid { reports[row.name] = report }
            }
            return Snapshot(workers: state.workers, reports: reports, shuttingDown: state.shuttingDown,
                            published: state.published, now: now, supervisorUptime: uptime)
        }
    }
}
