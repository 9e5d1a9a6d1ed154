import Synchronization
import Wire

/// One input of a worker's event loop.
public enum WorkerInput: Sendable {
    /// A frame from one of the bus inboxes the loop reads.
    case frame(BusSocketID, BusFrame)
    /// A command from the supervisor (over the control channel).
    case command(SupervisorCommand)
    /// The periodic tick.
    case tick
    /// Shutdown was requested; the loop ends after this input.
    case stop
}

/// The one event loop of every worker with several inputs (fork-worker, alert-worker): bus inboxes, supervisor
/// commands, a periodic tick and the shutdown signal merged into one stream that a single consumer handles in
/// order, so a worker's state needs no lock.
///
/// Bounded: each inbox has a limit on the frames taken off the bus and not yet handled. At the limit its
/// feeder stops reading, the bus's own inbox fills and stops reading ZeroMQ, and ZeroMQ's high-water marks push
/// back on the senders, whose sends never block (a full queue drops and counts). Memory stays bounded under a
/// flood. Each feeder yields after every frame, so a busy inbox cannot starve the others.
public enum WorkerInputs {
    /// An inbox the loop reads, and how many of its frames may wait in the merged stream.
    public struct Inbox: Sendable {
        public var socket: BusSocketID
        public var inFlightLimit: Int

        public init(_ socket: BusSocketID, inFlightLimit: Int = 4096) {
            self.socket = socket
            self.inFlightLimit = max(1, inFlightLimit)
        }
    }

    /// Runs `handle` for every input until it returns false or shutdown is requested; the tick comes every
    /// `tick` on `clock`.
    public static func run<C: Clock>(bus: BusLoop, inboxes: [Inbox], tick: Duration, clock: C = ContinuousClock(),
                                     shutdown: ShutdownSignal, commands: AsyncStream<SupervisorCommand>? = nil,
                                     handle: (WorkerInput) async -> Bool) async where C.Duration == Duration {
        let (stream, continuation) = AsyncStream.makeStream(of: WorkerInput.self)
        let inFlight = inboxes.map { _ in InFlightCount() }
        var feeders: [Task<Void, Never>] = []
        for (inbox, count) in zip(inboxes, inFlight) {
            feeders.append(Task {
                for await frame in bus.inbox(inbox.socket) {
                    while count.value >= inbox.inFlightLimit, !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(1))
                    }
                    count.add(1)
                    continuation.yield(.frame(inbox.socket, frame))
                    await Task.yield()
                }
            })
        }
        feeders.append(Task {
            while !Task.isCancelled {
                try? await clock.sleep(for: tick)
                continuation.yield(.tick)
            }
        })
        feeders.append(Task { _ = await shutdown.wait(); continuation.yield(.stop) })
        if let commands {
            feeders.append(Task { for await command in commands { continuation.yield(.command(command)) } })
        }
        for await input in stream {
            if case .frame(let socket, _) = input, let index = inboxes.firstIndex(where: { $0.socket == socket }) {
                inFlight[index].add(-1)
            }
            if case .stop = input { break }
            if !(await handle(input)) { break }
        }
        feeders.forEach { $0.cancel() }
        continuation.finish()
    }

    /// Frames of one inbox in the merged stream (a gauge's worth of state, shared by its feeder and the loop).
    private final class InFlightCount: Sendable {
        private let count = Atomic<Int>(0)
        var value: Int { count.load(ordering: .relaxed) }
        func add(_ n: Int) { count.add(n, ordering: .relaxed) }
    }
}
