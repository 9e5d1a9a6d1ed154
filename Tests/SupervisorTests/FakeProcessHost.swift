import Foundation
import Synchronization
@testable import supervisor
@testable import WorkerRuntime
@testable import Wire
@testable import ControlPlane
@testable import Store
@testable import SubstrateRuntime
@testable import SubstratePrimitives
import TestKit

/// What happened in the fake world, in order. Tests assert on the order of these.
enum WorldEvent: Sendable, Equatable {
    case spawned(String)
    case spawnFailed(String)
    case ready(String)
    case signaled(String, Int32)
    case command(String, SupervisorCommand)
    case exited(String, TerminationStatus)
}

/// How a fake worker behaves, per incarnation.
enum FakeBehaviour: Sendable, Equatable {
    /// Says hello, heartbeats, exits 0 on SIGTERM.
    case healthy
    /// Exits with this code right after starting, before READY.
    case crashAtStart(Int32)
    /// Says hello, then stops heartbeating and ignores SIGTERM (like a SIGSTOPped process).
    case hangsAfterReady
    /// posix_spawn itself fails (e.g. EAGAIN).
    case spawnFails
    /// Never says hello; exits 0 on SIGTERM.
    case silent
    /// Exits with this code after READY.
    case exitsAfterReady(Int32)
}

/// The supervisor's control channel, faked: tests inject events and read what was sent.
/// Peers are worker names (or `ctl-N` for ctl clients).
final class FakeControlChannel: ControlChannel {
    typealias Peer = String
    let events: AsyncStream<ControlEvent<String>>
    private let continuation: AsyncStream<ControlEvent<String>>.Continuation
    private let replies = Mutex<[String: CtlResponse]>([:])
    private let onCommand: Mutex<(@Sendable (String, SupervisorCommand) -> Void)?> = Mutex(nil)

    init() {
        (events, continuation) = AsyncStream.makeStream(of: ControlEvent<String>.self)
    }

    func inject(_ event: ControlEvent<String>) { continuation.yield(event) }
    /// Simulates the control socket dying under the supervisor.
    func breakDown() { continuation.finish() }
    func setCommandObserver(_ observer: @escaping @Sendable (String, SupervisorCommand) -> Void) {
        onCommand.withLock { $0 = observer }
    }
    func reply(for peer: String) -> CtlResponse? { replies.withLock { $0[peer] } }

    func reply(_ response: CtlResponse, to peer: String) async { replies.withLock { $0[peer] = response } }
    func send(_ command: SupervisorCommand, to peer: String) async {
        let observer = onCommand.withLock { $0 }
        observer?(peer, command)
    }
    func close() async { continuation.finish() }

    /// Sends a ctl request and waits for the answer.
    func ctl(_ request: CtlRequest, peer: String) async throws -> CtlResponse {
        inject(.ctl(request, from: peer))
        return try await eventuallyValue(every: .milliseconds(5)) { self.reply(for: peer) }
    }
}

/// A fake `ProcessHost`: spawning starts a simulated worker (a task that says hello and
/// heartbeats through the fake channel), signals are recorded and acted on, and every step lands
/// in an ordered event log.
actor FakeProcessHost: ProcessHost {
    nonisolated let exits: AsyncStream<ProcessExit>
    private let exitSink: AsyncStream<ProcessExit>.Continuation
    private let channel: FakeControlChannel
    private let heartbeatInterval: Duration
    private(set) var log: [WorldEvent] = []
    private var nextPID: Int32 = 1000
    private var behaviours: [String: [FakeBehaviour]]
    private var live: [Int32: (name: String, behaviour: FakeBehaviour, beat: Task<Void, Never>?)] = [:]

    /// `behaviours[name]` is consumed one per incarnation; when it runs out, workers are healthy.
    /// With `heartbeats: false` the fake workers only say hello; the test sends heartbeats itself.
    private let heartbeats: Bool

    init(channel: FakeControlChannel, heartbeatInterval: Duration, behaviours: [String: [FakeBehaviour]] = [:], heartbeats: Bool = true) {
        self.heartbeats = heartbeats
        (exits, exitSink) = AsyncStream.makeStream(of: ProcessExit.self)
        self.channel = channel
        self.heartbeatInterval = heartbeatInterval
        self.behaviours = behaviours
    }

    func spawns(of name: String) -> Int { log.filter { $0 == .spawned(name) }.count }
    func pid(of name: String) -> Int32? { live.first { $0.value.name == name }?.key }
    var liveCount: Int { live.count }

    func record(_ event: WorldEvent) { log.append(event) }

    func spawn(_ spec: ProcessSpec) async throws(SpawnError) -> Int32 {
        let name = spec.environment[WorkerEnvironment.workerName] ?? "?"
        let role = WorkerRole(rawValue: spec.arguments[0]) ?? .notifier
        nextPID += 1
        let pid = nextPID
        var queue = behaviours[name] ?? []
        let behaviour = queue.isEmpty ? FakeBehaviour.healthy : queue.removeFirst()
        behaviours[name] = queue
        if behaviour == .spawnFails {
            log.append(.spawnFailed(name))
            throw .spawnFailed(path: spec.executable, errno: EAGAIN, reason: "Resource temporarily unavailable")
        }
        log.append(.spawned(name))
        live[pid] = (name, behaviour, nil)
        switch behaviour {
        case .crashAtStart(let code):
            finish(pid, .exited(code))
        case .silent, .spawnFails:
            break
        case .healthy, .hangsAfterReady, .exitsAfterReady:
            let channel = self.channel
            let interval = heartbeatInterval
            log.append(.ready(name))
            channel.inject(.hello(WorkerHello(worker: name, role: role, pid: pid), from: name))
            if case .exitsAfterReady(let code) = behaviour {
                finish(pid, .exited(code))
            } else if behaviour == .healthy && heartbeats {
                live[pid]?.beat = Task {
                    var sequence: UInt64 = 0
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval)
                        sequence += 1
                        channel.inject(.heartbeat(WorkerHeartbeat(worker: name, pid: pid, sequence: sequence), from: name))
                    }
                }
            }
        }
        return pid
    }

    func signal(_ pid: Int32, _ signal: Int32) async {
        guard let process = live[pid] else { return }
        log.append(.signaled(process.name, signal))
        if signal == SIGKILL {
            finish(pid, .signaled(SIGKILL))
        } else if signal == SIGTERM && process.behaviour != .hangsAfterReady {
            finish(pid, .exited(0))
        }
    }

    private func finish(_ pid: Int32, _ status: TerminationStatus) {
        guard let process = live.removeValue(forKey: pid) else { return }
        process.beat?.cancel()
        log.append(.exited(process.name, status))
        exitSink.yield(ProcessExit(pid: pid, status: status))
    }
}
