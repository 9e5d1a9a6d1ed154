import WorkerRuntime
import Foundation

/// The supervisor's timings. The defaults are the production values; tests shorten them.
struct SupervisorSettings: Sendable, Equatable {
    /// How often workers heartbeat (WorkerRuntime sends one every second).
    var heartbeatInterval: Duration = .seconds(1)
    /// Heartbeats a worker may miss before it counts as hung.
    var missedHeartbeats: Int = 3
    /// How long a new worker has to report READY.
    var readyTimeout: Duration = .seconds(30)
    /// After SIGTERM to a hung worker, how long before SIGKILL.
    var hungKillGrace: Duration = .seconds(2)
    /// How long a worker has to exit after `shutdown` + SIGTERM before SIGKILL (graceful stop).
    var stopTimeout: Duration = .milliseconds(2500)
    /// The notifier drains its outbox, so it gets longer.
    var notifierStopTimeout: Duration = .seconds(4)
    /// After SIGKILL, how long to wait for the exit before giving the process up for lost.
    var killWait: Duration = .seconds(1)
    /// The whole graceful shutdown must end within this (systemd and INTERFACE.md allow 15 s after
    /// SIGTERM); whatever is still alive then is SIGKILLed and the supervisor exits.
    var shutdownBudget: Duration = .seconds(13)
    var restart = RestartSettings()
    /// Whether the notifier may end the run by exiting 0 (it does so after `--alert-limit` alerts or
    /// with `--test-startup`). Otherwise its exit 0 is an unexpected exit and it is restarted, so that
    /// a bug can never silently stop the alerting with a "successful" exit.
    var notifierMayFinish = false

    init() {}

    /// How often the supervisor's loop checks deadlines.
    var tickInterval: Duration {
        min(max(heartbeatInterval / 4, .milliseconds(10)), .milliseconds(100))
    }

    /// The silence after which a worker counts as hung.
    var hungAfter: Duration {
        heartbeatInterval * missedHeartbeats
    }

    /// Reads the `supervisor.*` timing knobs of `CHAIN_ALERTER_TUNING` (`Tuning`): `key=milliseconds` (keys:
    /// heartbeat, ready, grace, stop, notifier-stop, kill-wait, shutdown-budget, backoff, max-backoff, min-uptime,
    /// stable, window) and `restarts=N`. Unknown keys are ignored.
    static func fromEnvironment(_ environment: [String: String]) -> SupervisorSettings {
        var settings = SupervisorSettings()
        for (key, raw) in Tuning.values(scope: "supervisor", environment: environment) {
            guard let value = Int(raw), value >= 0 else { continue }
            let ms = Duration.milliseconds(value)
            switch key {
            case "heartbeat": settings.heartbeatInterval = ms
            case "ready": settings.readyTimeout = ms
            case "grace": settings.hungKillGrace = ms
            case "stop": settings.stopTimeout = ms
            case "notifier-stop": settings.notifierStopTimeout = ms
            case "kill-wait": settings.killWait = ms
            case "shutdown-budget": settings.shutdownBudget = ms
            case "backoff": settings.restart.initialBackoff = ms
            case "max-backoff": settings.restart.maximumBackoff = ms
            case "min-uptime": settings.restart.minimumUptime = ms
            case "stable": settings.restart.stablePeriod = ms
            case "window": settings.restart.restartWindow = ms
            case "restarts": settings.restart.maximumRestarts = value
            default: continue
            }
        }
        return settings
    }
}
