import WorkerRuntime

/// A source of jitter: maps the nominal backoff delay to the delay actually used.
/// Injected so that tests can pin it; production draws uniformly from `[ (1 - spread) * d, d ]`.
struct BackoffJitter: Sendable {
    /// The fraction of the nominal delay that jitter may remove (0 = no jitter).
    var spread: Double
    /// Returns a number in `0...1`; the jitter removes `spread * random()` of the delay.
    var random: @Sendable () -> Double

    init(spread: Double, random: @escaping @Sendable () -> Double) {
        self.spread = min(max(spread, 0), 1)
        self.random = random
    }

    /// Production jitter: up to 20 % shorter than nominal, so restarts of several workers spread out.
    static let standard = BackoffJitter(spread: 0.2, random: { Double.random(in: 0...1) })
    /// No jitter at all (deterministic tests).
    static let none = BackoffJitter(spread: 0, random: { 0 })

    func apply(to nominal: Duration) -> Duration {
        Backoff.jittered(nominal, spread: spread, random: random())
    }
}

/// The restart policy's tunables; the defaults are the production values.
struct RestartSettings: Sendable, Equatable {
    var initialBackoff: Duration = .seconds(1)
    var maximumBackoff: Duration = .seconds(60)
    var minimumUptime: Duration = .seconds(10)
    var stablePeriod: Duration = .seconds(60)
    var maximumRestarts: Int = 5
    var restartWindow: Duration = .seconds(60)

    init() {}

    init(initialBackoff: Duration, maximumBackoff: Duration, minimumUptime: Duration,
         stablePeriod: Duration, maximumRestarts: Int, restartWindow: Duration) {
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.minimumUptime = minimumUptime
        self.stablePeriod = stablePeriod
        self.maximumRestarts = maximumRestarts
        self.restartWindow = restartWindow
    }
}

/// What the supervisor should do after a worker exited on its own (or was killed because it hung).
enum RestartDecision: Sendable, Equatable {
    /// Start the worker again after `delay`.
    case restart(after: Duration)
    /// The worker exited 78: its configuration is bad; never retry, shut the whole tree down with 78.
    case badConfiguration
    /// Too many restarts in the window: give up so that systemd restarts the whole tree.
    case escalate(restarts: Int, window: Duration)
}

/// The restart policy of one worker: a pure state machine over the instants it is told about
/// (generic over the clock's `Instant`, so tests drive it with a manual clock and never sleep).
///
/// - A run shorter than `minimumUptime` is a crash loop: each one doubles the backoff
///   (`initialBackoff`, ×2 per crash, capped at `maximumBackoff`).
/// - A run between `minimumUptime` and `stablePeriod` restarts with the current backoff, unchanged.
/// - A run of at least `stablePeriod` resets the backoff to `initialBackoff`.
/// - More than `maximumRestarts` restarts within `restartWindow` escalates.
/// - Exit code 78 is never retried.
struct RestartPolicy<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    typealias Settings = RestartSettings

    let settings: Settings
    let jitter: BackoffJitter
    /// How many times the backoff has doubled since the last stable run.
    private(set) var backoffExponent = 0
    /// When the current run started (nil before the first start).
    private(set) var lastStart: Instant?
    /// Instants of the restarts inside the current window.
    private(set) var recentRestarts: [Instant] = []

    init(settings: Settings = Settings(), jitter: BackoffJitter = .standard) {
        self.settings = settings
        self.jitter = jitter
    }

    /// The nominal (un-jittered) delay for the current backoff exponent.
    var nominalBackoff: Duration {
        Backoff(initial: settings.initialBackoff, maximum: settings.maximumBackoff, jitter: jitter.spread)
            .nominal(afterFailures: backoffExponent + 1)
    }

    /// Records that the worker was (re)started at `now`.
    mutating func recordStart(at now: Instant) {
        lastStart = now
    }

    /// Decides what to do about a worker that ended with `status` at `now`.
    mutating func decide(after status: TerminationStatus, at now: Instant) -> RestartDecision {
        if status == .exited(TerminationStatus.badConfigurationCode) {
            return .badConfiguration
        }
        let uptime = lastStart.map { $0.duration(to: now) } ?? .zero
        lastStart = nil
        if uptime >= settings.stablePeriod {
            backoffExponent = 0
        }
        let delay = jitter.apply(to: nominalBackoff)
        if uptime < settings.minimumUptime {
            // Crash loop: the next one waits twice as long (until the cap).
            if nominalBackoff < settings.maximumBackoff { backoffExponent += 1 }
        }
        let window = settings.restartWindow
        recentRestarts.removeAll { $0.duration(to: now) >= window }
        if recentRestarts.count >= settings.maximumRestarts {
            return .escalate(restarts: recentRestarts.count, window: settings.restartWindow)
        }
        recentRestarts.append(now)
        return .restart(after: delay)
    }
}
