import Testing
@testable import supervisor
@testable import WorkerRuntime
@testable import Wire
@testable import ControlPlane
@testable import Store
@testable import SubstrateRuntime
@testable import SubstratePrimitives
import TestKit

/// The restart policy, driven by a manual clock: no test here sleeps.
@Suite(.timeLimit(.minutes(1))) struct RestartPolicyTests {
    typealias Policy = RestartPolicy<ManualClock.Instant>

    let clock = ManualClock()

    /// Starts the worker, lets it run for `uptime`, then reports `status`.
    func run(_ policy: inout Policy, for uptime: Duration, then status: TerminationStatus = .exited(1)) -> RestartDecision {
        policy.recordStart(at: clock.now)
        clock.advance(by: uptime)
        return policy.decide(after: status, at: clock.now)
    }

    func delays(_ decisions: [RestartDecision]) -> [Duration?] {
        decisions.map { if case .restart(let delay) = $0 { delay } else { nil } }
    }

    @Test func backoffDoublesFromOneSecondToSixtySecondCap() {
        var settings = Policy.Settings()
        settings.maximumRestarts = 100
        settings.restartWindow = .seconds(1)
        var policy = Policy(settings: settings, jitter: .none)
        var decisions: [RestartDecision] = []
        for _ in 0..<9 {
            decisions.append(run(&policy, for: .milliseconds(100)))
            clock.advance(by: .seconds(120))  // the backoff itself; keeps the window empty
        }
        #expect(delays(decisions) == [1, 2, 4, 8, 16, 32, 60, 60, 60].map { Duration.seconds($0) })
    }

    @Test func productionDefaults() {
        let settings = Policy.Settings()
        #expect(settings.initialBackoff == .seconds(1))
        #expect(settings.maximumBackoff == .seconds(60))
        #expect(settings.maximumRestarts == 5)
        let policy = Policy()
        #expect(policy.jitter.spread > 0 && policy.jitter.spread < 1)
    }

    @Test(arguments: [0.0, 0.25, 0.5, 1.0])
    func jitterStaysWithinBounds(random: Double) {
        let jitter = BackoffJitter(spread: 0.2, random: { random })
        var policy = Policy(jitter: jitter)
        let decision = run(&policy, for: .milliseconds(10))
        guard case .restart(let delay) = decision else {
            Issue.record("expected a restart, got \(decision)")
            return
        }
        #expect(delay <= .seconds(1))
        #expect(delay >= .milliseconds(800))
        #expect(delay == .seconds(1) * (1 - 0.2 * random))
    }

    @Test func jitterIsClampedEvenIfTheSourceMisbehaves() {
        let jitter = BackoffJitter(spread: 0.2, random: { 7 })
        #expect(jitter.apply(to: .seconds(10)) == .seconds(8))
        let negative = BackoffJitter(spread: 0.2, random: { -3 })
        #expect(negative.apply(to: .seconds(10)) == .seconds(10))
    }

    @Test func stableRunResetsTheBackoff() {
        var policy = Policy(jitter: .none)
        _ = run(&policy, for: .milliseconds(100))  // 1 s
        clock.advance(by: .seconds(1))
        _ = run(&policy, for: .milliseconds(100))  // 2 s
        clock.advance(by: .seconds(2))
        #expect(run(&policy, for: .milliseconds(100)) == .restart(after: .seconds(4)))
        clock.advance(by: .seconds(4))
        // This run lasts past the stable period: back to the initial backoff.
        #expect(run(&policy, for: .seconds(61)) == .restart(after: .seconds(1)))
        #expect(policy.backoffExponent == 0)
    }

    @Test func runLongerThanMinimumUptimeDoesNotGrowTheBackoff() {
        var policy = Policy(jitter: .none)
        #expect(run(&policy, for: .milliseconds(100)) == .restart(after: .seconds(1)))
        clock.advance(by: .seconds(1))
        #expect(run(&policy, for: .milliseconds(100)) == .restart(after: .seconds(2)))
        clock.advance(by: .seconds(2))
        // Ran past the minimum uptime but not long enough to count as stable: same delay again.
        #expect(run(&policy, for: .seconds(20)) == .restart(after: .seconds(4)))
        clock.advance(by: .seconds(4))
        #expect(run(&policy, for: .seconds(20)) == .restart(after: .seconds(4)))
        // Below the minimum uptime again: the crash loop grows the delay.
        clock.advance(by: .seconds(4))
        #expect(run(&policy, for: .seconds(9)) == .restart(after: .seconds(4)))
        clock.advance(by: .seconds(4))
        #expect(run(&policy, for: .seconds(1)) == .restart(after: .seconds(8)))
    }

    @Test func escalatesAfterKRestartsInTheWindow() {
        var policy = Policy(jitter: .none)  // K = 5 in 60 s
        var decisions: [RestartDecision] = []
        for _ in 0..<6 {
            let decision = run(&policy, for: .milliseconds(50))
            decisions.append(decision)
            if case .restart(let delay) = decision { clock.advance(by: delay) }
        }
        #expect(delays(Array(decisions.prefix(5))) == [1, 2, 4, 8, 16].map { Duration.seconds($0) })
        #expect(decisions.last == .escalate(restarts: 5, window: .seconds(60)))
    }

    @Test func restartsOutsideTheWindowDoNotCount() {
        var policy = Policy(jitter: .none)
        for _ in 0..<5 {
            #expect(run(&policy, for: .seconds(30)) != .escalate(restarts: 5, window: .seconds(60)))
        }
        // Each run lasted 30 s: only two restarts are inside any 60 s window.
        #expect(policy.recentRestarts.count <= 2)
    }

    @Test func badConfigurationIsNeverRetried() {
        var policy = Policy(jitter: .none)
        #expect(run(&policy, for: .milliseconds(10), then: .exited(78)) == .badConfiguration)
        // Even after a long, stable run and with an empty window.
        #expect(run(&policy, for: .seconds(3600), then: .exited(78)) == .badConfiguration)
        #expect(policy.recentRestarts.isEmpty)
    }

    @Test func killedBySignalIsRestarted() {
        var policy = Policy(jitter: .none)
        #expect(run(&policy, for: .seconds(30), then: .signaled(9)) == .restart(after: .seconds(1)))
    }
}
