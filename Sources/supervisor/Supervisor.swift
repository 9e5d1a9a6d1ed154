import WorkerRuntime
import Wire
import ControlPlane
import Store
import SubstrateRuntime
import SubstratePrimitives
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps the workers alive: starts them in order, waits for each READY, watches heartbeats,
/// restarts by `RestartPolicy`, answers `ctl`, and stops everything in reverse order.
///
/// All state changes happen in `run()`'s single event loop (process exits, control messages,
/// ticks and shutdown requests are merged into one stream), so actor re-entrancy cannot
/// interleave two decisions.
actor Supervisor<Host: ProcessHost, Channel: ControlChannel, C: Clock> where C.Duration == Duration {
    /// The lifecycle state of one worker.
    enum State: Sendable, Equatable {
        /// Not started yet (waits for the workers before it in start order).
        case pending
        /// Spawned, waiting for READY until the deadline.
        case starting(deadline: C.Instant)
        case running
        /// Exited; will be started again at `until`.
        case backoff(until: C.Instant)
        /// Asked to stop (SIGTERM sent); SIGKILL at the deadline, then `then`.
        case stopping(deadline: C.Instant, killed: Bool, then: AfterStop)
        case stopped
    }

    /// What happens when a stopping worker has exited.
    enum AfterStop: Sendable, Equatable {
        /// `ctl restart`: start it again at once (does not count against the policy).
        case restartNow
        /// It hung: the restart policy decides (backoff, escalation).
        case restartByPolicy
        /// Shutdown: leave it stopped.
        case stayStopped
    }

    /// One worker's bookkeeping.
    struct Worker: Sendable {
        var slot: WorkerSlot
        var state: State = .pending
        var pid: Int32?
        var peer: Channel.Peer?
        var startedAt: C.Instant?
        var lastHeartbeat: C.Instant?
        var restarts = 0
        var lastExit: String?
        var policy: RestartPolicy<C.Instant>
    }

    /// Everything the loop reacts to, merged into one stream.
    private enum Event: Sendable {
        case exited(ProcessExit)
        case control(ControlEvent<Channel.Peer>)
        case tick
        case shutdown(String)
        /// The control socket's event stream ended while the supervisor still needed it.
        case controlClosed
    }

    /// The graceful shutdown in progress: which group of workers is being stopped, and the overall deadline.
    private struct Shutdown {
        var outcome: SupervisorOutcome
        var deadline: C.Instant
        /// Indexes of workers, one group per step, in stop order.
        var groups: [[Int]]
        var current = -1
    }

    private let host: Host
    private let channel: Channel
    private let clock: C
    private let settings: SupervisorSettings
    private let logger: Logger
    private let onLifecycle: @Sendable (LifecycleEvent) -> Void
    /// Fed the worker table and heartbeats for the HTTP endpoints (nil: no HTTP server).
    private let observer: ObservationHub?
    private(set) var workers: [Worker]
    /// How many ticks the loop has handled (lets a test with a manual clock step in lockstep).
    private(set) var ticksHandled = 0
    private var announcedReady = false
    /// Nodes isolated by hand (`ctl isolate`), by URL, in the order they were isolated; re-sent to every new
    /// fork-worker process until `ctl restore`.
    private(set) var manualIsolations: [String] = []
    /// Restarts of crashed or hung workers in this run (the last 64), sent to every new alert-worker process and,
    /// as they happen, to the running one: each becomes one WorkerRestarted alert (stable id per restart).
    private(set) var restartNotices: [SupervisorCommand] = []
    private var lastStatusLine = ""
    private var shutdown: Shutdown?
    private var outcome: SupervisorOutcome?
    private let events: AsyncStream<Event>
    private let eventSink: AsyncStream<Event>.Continuation

    init(
        lineup: [WorkerSlot],
        host: Host,
        channel: Channel,
        clock: C,
        settings: SupervisorSettings = SupervisorSettings(),
        jitter: BackoffJitter = .standard,
        logger: Logger,
        observer: ObservationHub? = nil,
        onLifecycle: @escaping @Sendable (LifecycleEvent) -> Void = { _ in }
    ) {
        self.observer = observer
        self.host = host
        self.channel = channel
        self.clock = clock
        self.settings = settings
        self.logger = logger
        self.onLifecycle = onLifecycle
        self.workers = lineup.map { Worker(slot: $0, policy: RestartPolicy(settings: settings.restart, jitter: jitter)) }
        (events, eventSink) = AsyncStream.makeStream(of: Event.self)
    }

    /// Asks for a graceful shutdown (SIGTERM/SIGINT). Safe to call from anywhere, any number of times.
    nonisolated func requestShutdown(reason: String) {
        eventSink.yield(.shutdown(reason))
    }

    /// Runs until every worker is stopped; returns why.
    func run() async -> SupervisorOutcome {
        let sink = eventSink
        let host = self.host
        let channel = self.channel
        let clock = self.clock
        let tick = settings.tickInterval
        let feeders = [
            Task {
                for await exit in host.exits { sink.yield(.exited(exit)) }
            },
            Task {
                for await event in channel.events { sink.yield(.control(event)) }
                if !Task.isCancelled { sink.yield(.controlClosed) }
            },
            Task {
                while !Task.isCancelled {
                    do { try await clock.sleep(for: tick) } catch { return }
                    sink.yield(.tick)
                }
            },
        ]
        defer { feeders.forEach { $0.cancel() } }

        logger.info("supervisor starting", metadata: ["workers": "\(workers.map(\.slot.name).joined(separator: ","))"])
        await progress()
        for await event in events {
            switch event {
            case .exited(let exit): await handleExit(exit)
            case .control(let control): await handleControl(control)
            case .tick:
                ticksHandled += 1
                onLifecycle(.alive)
            case .shutdown(let reason): await beginShutdown(.completed(reason: reason))
            case .controlClosed:
                // Without the control socket no heartbeat arrives: every worker would look hung. Stop
                // cleanly and exit 1 so that systemd restarts the whole tree with a fresh socket.
                logger.critical("the control socket closed unexpectedly")
                await beginShutdown(.failed("the control socket closed unexpectedly"))
            }
            await progress()
            if let outcome {
                await channel.close()
                return outcome
            }
        }
        return outcome ?? .failed("event stream ended")
    }

    /// The `ctl status` rows, in start order.
    func statusRows() -> [WorkerStatus] {
        let now = clock.now
        return workers.map { worker in
            let uptime: Double? = {
                guard worker.pid != nil, let started = worker.startedAt else { return nil }
                return Self.seconds(started.duration(to: now))
            }()
            return WorkerStatus(
                name: worker.slot.name, role: worker.slot.role, pid: worker.pid,
                state: Self.stateName(worker.state), uptimeSeconds: uptime,
                restarts: worker.restarts, lastExit: worker.lastExit
            )
        }
    }

    // MARK: - Events

    private func handleExit(_ exit: ProcessExit) async {
        guard let index = workers.firstIndex(where: { $0.pid == exit.pid }) else { return }
        let now = clock.now
        let name = workers[index].slot.name
        workers[index].pid = nil
        workers[index].peer = nil
        workers[index].lastExit = exit.status.description
        let previous = workers[index].state

        if shutdown != nil {
            logger.info("worker stopped", metadata: ["worker": "\(name)", "pid": "\(exit.pid)", "exit": "\(exit.status)"])
            workers[index].state = .stopped
            return
        }
        switch previous {
        case .stopping(_, _, .restartNow):
            logger.info("worker stopped for restart", metadata: ["worker": "\(name)", "exit": "\(exit.status)"])
            workers[index].restarts += 1
            await spawn(index)
            return
        case .stopping(_, _, .stayStopped):
            workers[index].state = .stopped
            return
        default:
            break
        }
        let wasStopping: Bool
        if case .stopping = previous { wasStopping = true } else { wasStopping = false }
        if wasStopping {
            logger.warning("hung worker ended", metadata: ["worker": "\(name)", "exit": "\(exit.status)"])
        } else {
            logger.warning("worker exited unexpectedly", metadata: ["worker": "\(name)", "pid": "\(exit.pid)", "exit": "\(exit.status)"])
        }
        if !wasStopping && settings.notifierMayFinish && workers[index].slot.role == .notifier && exit.status == .exited(0) {
            // The notifier exits 0 by itself only when its work is done (--alert-limit, --test-startup).
            workers[index].state = .stopped
            await beginShutdown(.completed(reason: "the notifier finished its work"))
            return
        }
        await applyRestartPolicy(index, after: exit.status, at: now)
    }

    /// Backoff, escalation or bad configuration, as the worker's policy decides.
    private func applyRestartPolicy(_ index: Int, after status: TerminationStatus, at now: C.Instant) async {
        let name = workers[index].slot.name
        switch workers[index].policy.decide(after: status, at: now) {
        case .restart(let delay):
            logger.info("restarting worker after backoff", metadata: ["worker": "\(name)", "delay": "\(delay)"])
            workers[index].state = .backoff(until: now.advanced(by: delay))
        case .badConfiguration:
            logger.critical("worker reported bad configuration (exit 78); not retrying", metadata: ["worker": "\(name)"])
            workers[index].state = .stopped
            await beginShutdown(.badConfiguration(worker: name))
        case .escalate(let restarts, let window):
            workers[index].state = .stopped
            let reason = "restarted \(restarts) times within \(window) and \(status) again"
            logger.critical("worker keeps failing; escalating", metadata: ["worker": "\(name)", "reason": "\(reason)"])
            await beginShutdown(.escalated(worker: name, reason: reason))
        }
    }

    private func handleControl(_ event: ControlEvent<Channel.Peer>) async {
        let now = clock.now
        switch event {
        case .hello(let hello, let peer):
            guard let index = workers.firstIndex(where: { $0.slot.name == hello.worker && $0.pid == hello.pid }) else {
                logger.debug("hello from an unknown or stale worker", metadata: ["worker": "\(hello.worker)", "pid": "\(hello.pid)"])
                return
            }
            workers[index].peer = peer
            workers[index].lastHeartbeat = now
            if case .starting = workers[index].state {
                workers[index].state = .running
                logger.info("worker ready", metadata: ["worker": "\(hello.worker)", "pid": "\(hello.pid)"])
            }
            if workers[index].slot.role == .alertWorker {
                for notice in restartNotices { await channel.send(notice, to: peer) }
            }
            if workers[index].slot.role == .forkWorker {
                // A (re)started fork-worker knows nothing of what the operator isolated: tell it again.
                for node in manualIsolations { await channel.send(.isolateNode(node: node), to: peer) }
            }
        case .heartbeat(let beat, let peer):
            guard let index = workers.firstIndex(where: { $0.slot.name == beat.worker && $0.pid == beat.pid }) else { return }
            workers[index].lastHeartbeat = now
            observer?.heartbeat(beat)
            if workers[index].peer == nil { workers[index].peer = peer }
            if case .starting = workers[index].state {
                workers[index].state = .running
            }
        case .ctl(let request, let peer):
            let response = await handleCtl(request)
            await channel.reply(response, to: peer)
        }
    }

    private func handleCtl(_ request: CtlRequest) async -> CtlResponse {
        switch request.command {
        case "status":
            let running = workers.filter { $0.state == .running }.count
            var message = "\(running)/\(workers.count) workers running"
            if !manualIsolations.isEmpty { message += "; isolated by hand: " + manualIsolations.joined(separator: ", ") }
            return CtlResponse(ok: true, message: message, workers: statusRows())
        case "restart":
            guard shutdown == nil else { return CtlResponse(ok: false, message: "the supervisor is shutting down") }
            let names = workers.map(\.slot.name).joined(separator: ", ")
            guard let target = request.target, !target.isEmpty else {
                return CtlResponse(ok: false, message: "restart needs a worker name; one of: \(names)")
            }
            guard let index = workers.firstIndex(where: { $0.slot.name == target }) else {
                return CtlResponse(ok: false, message: "no worker named \(target); workers are: \(names)")
            }
            switch workers[index].state {
            case .starting, .running:
                let pid = workers[index].pid ?? 0
                logger.notice("restart requested over the control socket", metadata: ["worker": "\(target)", "pid": "\(pid)"])
                await stop(index, then: .restartNow, timeout: stopTimeout(for: index))
                return CtlResponse(ok: true, message: "restarting \(target) (pid \(pid))")
            case .backoff, .pending, .stopped:
                if case .pending = workers[index].state {
                    return CtlResponse(ok: false, message: "\(target) has not been started yet")
                }
                workers[index].restarts += 1
                await spawn(index)
                return CtlResponse(ok: true, message: "started \(target)")
            case .stopping:
                return CtlResponse(ok: true, message: "\(target) is already stopping")
            }
        case "isolate", "restore":
            let isolate = request.command == "isolate"
            let nodes = nodeURLs
            let known = nodes.enumerated().map { "\($0.element) (node-watcher-\($0.offset))" }.joined(separator: ", ")
            guard let target = request.target, !target.isEmpty else {
                return CtlResponse(ok: false, message: "\(request.command) needs a node URL or node-watcher-N; nodes are: \(known)")
            }
            guard let url = Self.resolveNode(target, urls: nodes) else {
                return CtlResponse(ok: false, message: "no node \(target); nodes are: \(known)")
            }
            if isolate {
                if !manualIsolations.contains(url) { manualIsolations.append(url) }
            } else {
                manualIsolations.removeAll { $0 == url }
            }
            logger.notice("\(request.command) requested over the control socket", metadata: ["node": "\(url)"])
            let command: SupervisorCommand = isolate ? .isolateNode(node: url) : .restoreNode(node: url)
            if let fork = workers.first(where: { $0.slot.role == .forkWorker }), fork.state == .running, let peer = fork.peer {
                await channel.send(command, to: peer)
                return CtlResponse(ok: true, message: isolate ? "isolated \(url) until `ctl restore`" : "restored \(url)")
            }
            return CtlResponse(ok: true, message: isolate ? "isolation of \(url) recorded; the fork-worker is not running and gets it when it starts"
                                                          : "restore of \(url) recorded; the fork-worker is not running")
        default:
            return CtlResponse(ok: false, message: "unknown command \(request.command); supported: status, restart WORKER, isolate NODE, restore NODE")
        }
    }

    /// A crashed or hung worker was started again: the alert-worker raises WorkerRestarted.
    private func noticeRestart(_ index: Int) async {
        let worker = workers[index]
        guard worker.pid != nil else { return } // the spawn itself failed: nothing was restarted
        let notice = SupervisorCommand.workerRestarted(worker: worker.slot.name, restart: worker.restarts, lastExit: worker.lastExit ?? "unknown")
        restartNotices.append(notice)
        if restartNotices.count > 64 { restartNotices.removeFirst(restartNotices.count - 64) }
        if let alert = workers.first(where: { $0.slot.role == .alertWorker }), alert.state == .running, let peer = alert.peer {
            await channel.send(notice, to: peer)
        }
    }

    /// The node URLs, in configuration order (from the node-watchers' `--watch-node` arguments).
    var nodeURLs: [String] {
        workers.filter { $0.slot.role == .nodeWatcher }.compactMap { worker in
            let args = worker.slot.spec.arguments
            guard let i = args.lastIndex(of: "--watch-node"), i + 1 < args.count else { return nil }
            return args[i + 1]
        }
    }

    /// A node named by its URL exactly as configured, or by its watcher's name `node-watcher-N`.
    static func resolveNode(_ target: String, urls: [String]) -> String? {
        if urls.contains(target) { return target }
        if target.hasPrefix("node-watcher-"), let n = Int(target.dropFirst("node-watcher-".count)), urls.indices.contains(n) { return urls[n] }
        return nil
    }

    // MARK: - Deadlines, start order, shutdown

    /// Runs after every event: fires due deadlines, starts the next worker in order, drives shutdown.
    private func progress() async {
        let now = clock.now
        for index in workers.indices {
            switch workers[index].state {
            case .starting(let deadline) where now >= deadline:
                logger.error("worker did not report READY in time; treating it as hung", metadata: ["worker": "\(workers[index].slot.name)", "timeout": "\(settings.readyTimeout)"])
                await stop(index, then: .restartByPolicy, timeout: settings.hungKillGrace, command: false)
            case .running:
                if let last = workers[index].lastHeartbeat, last.duration(to: now) > settings.hungAfter {
                    logger.error("worker missed \(settings.missedHeartbeats) heartbeats; treating it as hung", metadata: ["worker": "\(workers[index].slot.name)", "pid": "\(workers[index].pid ?? 0)"])
                    await stop(index, then: .restartByPolicy, timeout: settings.hungKillGrace, command: false)
                }
            case .backoff(let until) where now >= until && shutdown == nil:
                workers[index].restarts += 1
                await spawn(index)
                await noticeRestart(index)
            case .stopping(let deadline, let killed, let then) where now >= deadline:
                if !killed, let pid = workers[index].pid {
                    logger.warning("worker did not stop in time; sending SIGKILL", metadata: ["worker": "\(workers[index].slot.name)", "pid": "\(pid)"])
                    await host.signal(pid, SIGKILL)
                    workers[index].state = .stopping(deadline: now.advanced(by: settings.killWait), killed: true, then: then)
                } else {
                    logger.error("worker did not exit even after SIGKILL; giving it up", metadata: ["worker": "\(workers[index].slot.name)"])
                    if let pid = workers[index].pid {
                        await handleExit(ProcessExit(pid: pid, status: .signaled(SIGKILL)))
                    } else {
                        workers[index].state = .stopped
                    }
                }
            default:
                break
            }
        }
        if shutdown != nil {
            await advanceShutdown()
        } else {
            await advanceStartup()
        }
        publishStatus()
    }

    private func advanceStartup() async {
        guard let next = workers.firstIndex(where: { $0.state == .pending }) else {
            if !announcedReady && workers.allSatisfy({ $0.state == .running }) {
                announcedReady = true
                logger.info("all workers ready", metadata: ["count": "\(workers.count)"])
                publishStatus()
                onLifecycle(.ready)
            }
            return
        }
        if workers[..<next].allSatisfy({ $0.state == .running }) {
            await spawn(next)
        }
    }

    private func spawn(_ index: Int) async {
        let now = clock.now
        let slot = workers[index].slot
        do {
            let pid = try await host.spawn(slot.spec)
            workers[index].pid = pid
            workers[index].peer = nil
            workers[index].startedAt = now
            workers[index].lastHeartbeat = nil
            workers[index].state = .starting(deadline: now.advanced(by: settings.readyTimeout))
            workers[index].policy.recordStart(at: now)
            logger.info("worker spawned", metadata: ["worker": "\(slot.name)", "pid": "\(pid)"])
        } catch {
            switch error {
            case .executableMissing:
                // Not something a retry fixes: the installation is incomplete.
                workers[index].state = .stopped
                logger.critical("cannot start worker", metadata: ["worker": "\(slot.name)", "error": "\(error)"])
                await beginShutdown(.failed("\(slot.name): \(error)"))
            case .spawnFailed:
                // Possibly transient (EAGAIN, ENOMEM): a failed start, subject to backoff and escalation.
                logger.error("cannot start worker; will retry", metadata: ["worker": "\(slot.name)", "error": "\(error)"])
                workers[index].lastExit = "could not start: \(error)"
                workers[index].policy.recordStart(at: now)
                await applyRestartPolicy(index, after: .exited(127), at: now)
            }
        }
    }

    /// Asks a worker to stop: `shutdown` over the control socket (when asked to) and SIGTERM.
    private func stop(_ index: Int, then: AfterStop, timeout: Duration, command: Bool = true) async {
        guard let pid = workers[index].pid else {
            workers[index].state = .stopped
            return
        }
        if command, let peer = workers[index].peer {
            await channel.send(.shutdown(reason: then == .stayStopped ? "supervisor shutdown" : "restart requested"), to: peer)
        }
        await host.signal(pid, SIGTERM)
        workers[index].state = .stopping(deadline: clock.now.advanced(by: timeout), killed: false, then: then)
    }

    private func stopTimeout(for index: Int) -> Duration {
        workers[index].slot.role == .notifier ? settings.notifierStopTimeout : settings.stopTimeout
    }

    private func beginShutdown(_ outcome: SupervisorOutcome) async {
        guard shutdown == nil else { return }
        logger.notice("shutting down", metadata: ["reason": "\(outcome)"])
        onLifecycle(.stopping)
        // Reverse start order; all node-watchers form one group (they are independent).
        var groups: [[Int]] = []
        let watchers = workers.indices.filter { workers[$0].slot.role == .nodeWatcher }
        if !watchers.isEmpty { groups.append(watchers) }
        for role in [WorkerRole.forkWorker, .alertWorker, .notifier] {
            let members = workers.indices.filter { workers[$0].slot.role == role }
            if !members.isEmpty { groups.append(members) }
        }
        shutdown = Shutdown(outcome: outcome, deadline: clock.now.advanced(by: settings.shutdownBudget), groups: groups)
        for index in workers.indices {
            switch workers[index].state {
            case .pending, .backoff: workers[index].state = .stopped
            default: break
            }
        }
    }

    private func advanceShutdown() async {
        guard var plan = shutdown else { return }
        if clock.now >= plan.deadline {
            for index in workers.indices {
                guard let pid = workers[index].pid else { continue }
                logger.error("shutdown took too long; killing worker", metadata: ["worker": "\(workers[index].slot.name)", "pid": "\(pid)"])
                await host.signal(pid, SIGKILL)
                workers[index].state = .stopped
            }
            outcome = plan.outcome
            return
        }
        while true {
            if plan.current >= 0 && plan.current < plan.groups.count {
                let alive = plan.groups[plan.current].contains { workers[$0].pid != nil }
                if alive { break }
            }
            plan.current += 1
            if plan.current >= plan.groups.count {
                shutdown = plan
                outcome = plan.outcome
                logger.notice("all workers stopped", metadata: ["outcome": "\(plan.outcome)"])
                return
            }
            for index in plan.groups[plan.current] where workers[index].pid != nil {
                if case .stopping(let deadline, let killed, _) = workers[index].state {
                    // Already stopping (hung or restarting): keep its deadline, just do not restart it.
                    workers[index].state = .stopping(deadline: deadline, killed: killed, then: .stayStopped)
                } else {
                    logger.info("stopping worker", metadata: ["worker": "\(workers[index].slot.name)", "pid": "\(workers[index].pid ?? 0)"])
                    await stop(index, then: .stayStopped, timeout: stopTimeout(for: index))
                }
            }
        }
        shutdown = plan
    }

    private func publishStatus() {
        observer?.update(workers: statusRows(), shuttingDown: shutdown != nil)
        let line = statusLine()
        if line != lastStatusLine {
            lastStatusLine = line
            onLifecycle(.status(line))
        }
    }

    private func statusLine() -> String {
        if shutdown != nil {
            let alive = workers.filter { $0.pid != nil }.count
            return "stopping: \(alive) worker(s) still running"
        }
        let running = workers.filter { $0.state == .running }.count
        let troubled = workers.filter {
            switch $0.state {
            case .running, .pending: return false
            default: return true
            }
        }.map { "\($0.slot.name) \(Self.stateName($0.state))" }
        var line = "\(running)/\(workers.count) workers running"
        if !troubled.isEmpty { line += "; " + troubled.joined(separator: ", ") }
        return line
    }

    static func stateName(_ state: State) -> String {
        switch state {
        case .pending: return "pending"
        case .starting: return "starting"
        case .running: return "running"
        case .backoff: return "backoff"
        case .stopping: return "stopping"
        case .stopped: return "stopped"
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
