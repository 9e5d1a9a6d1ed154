import CLinuxShims
import CZeroMQ
import Glibc
import Logging
import Synchronization
import SubstratePrimitives

/// How a `BusLoop` attaches one socket to the world.
public struct SocketSpec: Sendable {
    /// Whether the socket binds (owns the endpoint) or connects to it.
    public enum Attachment: Sendable, Equatable {
        case bind(String)
        case connect(String)
    }

    /// Used in metric labels and logs; keep it stable (e.g. `control`, `block-seen-in`).
    public var name: String
    public var kind: SocketKind
    public var attachments: [Attachment]
    public var options: SocketOptions
    /// Messages callers may hand the loop before `send` refuses with `BusError.outboundQueueFull`.
    public var outboundCapacity: Int
    /// Received messages the consumer may lag behind before the loop stops reading this socket,
    /// which lets ZeroMQ's own high-water marks push back on the sender.
    public var inboxCapacity: Int

    public init(name: String, kind: SocketKind, attachments: [Attachment], options: SocketOptions = SocketOptions(),
                outboundCapacity: Int = 1024, inboxCapacity: Int = 1024) {
        self.name = name
        self.kind = kind
        self.attachments = attachments
        self.options = options
        self.outboundCapacity = outboundCapacity
        self.inboxCapacity = inboxCapacity
    }
}

/// One message received on a bus socket: the payload frame, plus the peer's routing id on a ROUTER.
public struct BusFrame: Sendable, Equatable {
    public var routingID: [UInt8]?
    public var payload: [UInt8]

    public init(routingID: [UInt8]? = nil, payload: [UInt8]) {
        self.routingID = routingID
        self.payload = payload
    }
}

/// Identifies a socket owned by a `BusLoop`.
public struct BusSocketID: Hashable, Sendable {
    let index: Int
    public let name: String
}

/// The messages received on one socket of a `BusLoop`, as an async sequence.
///
/// Single consumer. The loop hands over everything one poll brought in as one batch, so a busy
/// socket costs one task wake-up per batch rather than per message. Consuming counts down the
/// socket's backlog; a slow consumer makes the loop stop reading, and the sender then sees EAGAIN
/// rather than the receiver growing without bound.
public struct BusInbox: AsyncSequence, Sendable {
    public typealias Element = BusFrame
    let stream: AsyncStream<[BusFrame]>
    let backlog: BusBacklog

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: stream.makeAsyncIterator(), backlog: backlog)
    }

    /// Iterator of `BusInbox`.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncStream<[BusFrame]>.AsyncIterator
        let backlog: BusBacklog
        var batch: [BusFrame] = []
        var position = 0

        public mutating func next() async -> BusFrame? {
            if position == batch.count {
                guard let next = await base.next() else { return nil }
                batch = next
                position = 0
            }
            let frame = batch[position]
            position += 1
            backlog.count.subtract(1, ordering: .relaxed)
            return frame
        }
    }
}

/// Received-but-not-consumed message count of one socket, shared between the loop and its inbox.
final class BusBacklog: Sendable {
    let count = Atomic<Int>(0)
}

/// A dedicated thread that owns a set of ZeroMQ sockets and polls them.
///
/// ZeroMQ sockets are not thread-safe and every libzmq call may block, so none is made on the Swift
/// cooperative pool: callers hand outbound messages to a lock-protected queue and wake the loop
/// through an eventfd; received messages come back through one `BusInbox` per socket.
public final class BusLoop: Sendable {
    fileprivate struct Outbound {
        var socket: Int
        var routingID: [UInt8]?
        var payload: [UInt8]
    }

    private struct SharedState {
        var outbound: [Outbound] = []
        var queued: [Int]
        var wakePending = false
        var stopping = false
        var stopped = false
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
        /// Callers of the `sendWaiting` variants waiting for their socket's queue to drain.
        var roomWaiters: [(socket: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    public let name: String
    public let sockets: [BusSocketID]
    private let specs: [SocketSpec]
    private let state: Mutex<SharedState>
    private let wakeFD: Int32
    private let inboxes: [BusInbox]
    private let metrics: BusMetrics

    /// Creates, configures and binds/connects the sockets on the calling thread (none of those calls
    /// waits on the network), then hands them to a new thread that polls them until `close()`.
    public init(name: String, sockets specs: [SocketSpec], context: ZMQContext = .shared, logger: Logger,
                metrics: BusMetrics = BusMetrics()) throws(BusError) {
        self.name = name
        self.specs = specs
        self.metrics = metrics
        let wakeFD = chain_alerter_eventfd()
        if wakeFD < 0 { throw .zmq(operation: "eventfd", endpoint: nil, errno: errno) }
        var opened: [ZMQSocket] = []
        do {
            for spec in specs {
                let socket = try ZMQSocket(context: context, kind: spec.kind, name: spec.name, options: spec.options, metrics: metrics)
                opened.append(socket)
                for attachment in spec.attachments {
                    switch attachment {
                    case .bind(let endpoint): try socket.bind(endpoint)
                    case .connect(let endpoint): try socket.connect(endpoint)
                    }
                }
            }
        } catch {
            opened.forEach { $0.close() }
            Glibc.close(wakeFD)
            throw error
        }
        self.wakeFD = wakeFD
        self.sockets = specs.enumerated().map { BusSocketID(index: $0.offset, name: $0.element.name) }
        self.state = Mutex(SharedState(queued: Array(repeating: 0, count: specs.count)))

        var continuations: [AsyncStream<[BusFrame]>.Continuation] = []
        var inboxes: [BusInbox] = []
        for _ in specs {
            // Unbounded here is bounded in fact: the loop stops reading at `inboxCapacity` frames.
            let (stream, continuation) = AsyncStream.makeStream(of: [BusFrame].self, bufferingPolicy: .unbounded)
            continuations.append(continuation)
            inboxes.append(BusInbox(stream: stream, backlog: BusBacklog()))
        }
        self.inboxes = inboxes

        let core = LoopCore(loop: self, sockets: opened, specs: specs, continuations: continuations,
                            backlogs: inboxes.map(\.backlog), logger: logger)
        // A plain pthread: Foundation's Thread would pull libFoundation (and ICU) into every worker.
        var thread = pthread_t()
        let retained = Unmanaged.passRetained(core).toOpaque()
        let rc = pthread_create(&thread, nil, { argument in
            let core = Unmanaged<LoopCore>.fromOpaque(argument!).takeRetainedValue()
            core.run()
            return nil
        }, retained)
        if rc != 0 {
            Unmanaged<LoopCore>.fromOpaque(retained).release()
            opened.forEach { $0.close() }
            throw .zmq(operation: "pthread_create for bus loop \(name)", endpoint: nil, errno: rc)
        }
        pthread_detach(thread)
    }

    /// The received messages of `socket`. Iterate it from one task only.
    public func inbox(_ socket: BusSocketID) -> BusInbox {
        inboxes[socket.index]
    }

    /// The received messages of the loop's first socket (most loops own exactly one).
    public var inbox: BusInbox { inboxes[0] }

    /// Queues `payload` for `socket` without blocking; the loop sends it as soon as ZeroMQ accepts it.
    ///
    /// On a ROUTER, `routingID` names the peer; a ROUTER message to a peer that is gone or full is
    /// dropped and counted, so one stuck worker cannot hold up messages to the others.
    public func send(_ payload: [UInt8], routingID: [UInt8]? = nil, on socket: BusSocketID? = nil) throws(BusError) {
        let index = socket?.index ?? 0
        let spec = specs[index]
        if !spec.kind.canSend { throw .zmq(operation: "send on a \(spec.kind.rawValue) socket (\(spec.name))", endpoint: nil, errno: ENOTSUP) }
        let outcome: Result<Bool, BusError> = state.withLock { state in
            if state.stopping { return .failure(.closed(socket: spec.name)) }
            if state.queued[index] >= spec.outboundCapacity {
                return .failure(.outboundQueueFull(socket: spec.name, capacity: spec.outboundCapacity))
            }
            state.queued[index] += 1
            state.outbound.append(Outbound(socket: index, routingID: routingID, payload: payload))
            if state.wakePending { return .success(false) }
            state.wakePending = true
            return .success(true)
        }
        switch outcome {
        case .success(let mustWake):
            if mustWake { wake() }
        case .failure(let error):
            if case .outboundQueueFull = error { metrics.outboundRejected(socket: spec.name) }
            throw error
        }
    }

    /// Queues several payloads for `socket` at once: one lock and at most one wake-up for the lot.
    /// All or nothing: if they do not all fit the outbound queue, none is queued.
    public func send(contentsOf payloads: [[UInt8]], on socket: BusSocketID? = nil) throws(BusError) {
        if payloads.isEmpty { return }
        let index = socket?.index ?? 0
        let spec = specs[index]
        if !spec.kind.canSend { throw .zmq(operation: "send on a \(spec.kind.rawValue) socket (\(spec.name))", endpoint: nil, errno: ENOTSUP) }
        let outcome: Result<Bool, BusError> = state.withLock { state in
            if state.stopping { return .failure(.closed(socket: spec.name)) }
            if state.queued[index] + payloads.count > spec.outboundCapacity {
                return .failure(.outboundQueueFull(socket: spec.name, capacity: spec.outboundCapacity))
            }
            state.queued[index] += payloads.count
            for payload in payloads { state.outbound.append(Outbound(socket: index, routingID: nil, payload: payload)) }
            if state.wakePending { return .success(false) }
            state.wakePending = true
            return .success(true)
        }
        switch outcome {
        case .success(let mustWake):
            if mustWake { wake() }
        case .failure(let error):
            if case .outboundQueueFull = error { metrics.outboundRejected(socket: spec.name) }
            throw error
        }
    }

    /// Like `send(_:routingID:on:)`, but when the outbound queue is full it suspends until the loop
    /// has drained it to half, instead of failing: back-pressure for producers that must not drop
    /// (the data path). Never blocks a thread. Fails only if the loop is closed.
    public func sendWaiting(_ payload: [UInt8], routingID: [UInt8]? = nil, on socket: BusSocketID? = nil) async throws(BusError) {
        while true {
            do {
                try send(payload, routingID: routingID, on: socket)
                return
            } catch {
                guard case .outboundQueueFull = error else { throw error }
                await waitForRoom(socket?.index ?? 0)
            }
        }
    }

    /// `send(contentsOf:on:)` with the back-pressure of `sendWaiting(_:routingID:on:)`. A batch larger
    /// than the socket's outbound capacity can never fit and fails with `outboundQueueFull`.
    public func sendWaiting(contentsOf payloads: [[UInt8]], on socket: BusSocketID? = nil) async throws(BusError) {
        let index = socket?.index ?? 0
        while true {
            do {
                try send(contentsOf: payloads, on: socket)
                return
            } catch {
                guard case .outboundQueueFull = error, payloads.count <= specs[index].outboundCapacity else { throw error }
                await waitForRoom(index)
            }
        }
    }

    private func waitForRoom(_ index: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state in
                if state.stopping || state.queued[index] <= specs[index].outboundCapacity / 2 { return true }
                state.roomWaiters.append((index, continuation))
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Stops the loop: sockets close with LINGER 0, inboxes finish. Returns at once; see `closed()`.
    public func close() {
        let mustWake = state.withLock { state in
            if state.stopping { return false }
            state.stopping = true
            return true
        }
        if mustWake { wake() }
    }

    /// Waits until the loop thread has closed its sockets (so an ipc endpoint can be bound again).
    public func closed() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state in
                if state.stopped { return true }
                state.closeWaiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    private func wake() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    deinit {
        Glibc.close(wakeFD)
    }

    // MARK: loop-thread side

    /// Takes what callers queued. `wakePending` stays set while batches keep coming, so callers skip
    /// the eventfd write (a syscall and a wake-up each) while the loop is busy anyway; it is cleared
    /// only when the queue is found empty, just before the loop may sleep.
    fileprivate func takeOutbound(completed: inout [Int], woken: Bool) -> (batch: [Outbound], stopping: Bool) {
        if woken {
            var drained: UInt64 = 0
            _ = Glibc.read(wakeFD, &drained, 8)
        }
        var ready: [CheckedContinuation<Void, Never>] = []
        let taken = state.withLock { state in
            for index in completed.indices where completed[index] != 0 {
                state.queued[index] -= completed[index]
                completed[index] = 0
            }
            if !state.roomWaiters.isEmpty {
                // Half empty before waking anyone: waking on every freed slot would ping-pong.
                let specs = self.specs
                let queued = state.queued
                let stopping = state.stopping
                let isReady = { (waiter: (socket: Int, continuation: CheckedContinuation<Void, Never>)) in
                    stopping || queued[waiter.socket] <= specs[waiter.socket].outboundCapacity / 2
                }
                ready = state.roomWaiters.filter(isReady).map(\.continuation)
                state.roomWaiters.removeAll(where: isReady)
            }
            if state.outbound.isEmpty { state.wakePending = false }
            let batch = state.outbound
            state.outbound.removeAll(keepingCapacity: true)
            return (batch, state.stopping)
        }
        ready.forEach { $0.resume() }
        return taken
    }

    fileprivate func markStopped() {
        let waiters = state.withLock { state in
            // Also after a poll failure: later sends must fail rather than queue into a dead loop.
            state.stopping = true
            state.stopped = true
            let waiters = state.closeWaiters + state.roomWaiters.map(\.continuation)
            state.closeWaiters = []
            state.roomWaiters = []
            return waiters
        }
        waiters.forEach { $0.resume() }
    }

    fileprivate var wakeDescriptor: Int32 { wakeFD }

    /// Thread-confined half of the loop: everything here runs on the loop thread only.
    fileprivate final class LoopCore: @unchecked Sendable {
        let loop: BusLoop
        let sockets: [ZMQSocket]
        let specs: [SocketSpec]
        let continuations: [AsyncStream<[BusFrame]>.Continuation]
        let backlogs: [BusBacklog]
        let logger: Logger
        var pending: [[Outbound]]
        var pendingHead: [Int]
        var stalled: [Bool]
        var completed: [Int]

        init(loop: BusLoop, sockets: [ZMQSocket], specs: [SocketSpec], continuations: [AsyncStream<[BusFrame]>.Continuation],
             backlogs: [BusBacklog], logger: Logger) {
            self.loop = loop
            self.sockets = sockets
            self.specs = specs
            self.continuations = continuations
            self.backlogs = backlogs
            self.logger = logger
            pending = Array(repeating: [], count: sockets.count)
            pendingHead = Array(repeating: 0, count: sockets.count)
            stalled = Array(repeating: false, count: sockets.count)
            completed = Array(repeating: 0, count: sockets.count)
        }

        func run() {
            // Shows in top/ps as e.g. "bus-control"; Linux allows 15 characters.
            chain_alerter_set_thread_name(String("bus-\(loop.name)".prefix(15)))
            var items = [zmq_pollitem_t](repeating: zmq_pollitem_t(), count: sockets.count + 1)
            items[0].fd = loop.wakeDescriptor
            items[0].events = Int16(ZMQ_POLLIN)
            for index in sockets.indices { items[index + 1].socket = sockets[index].handle }
            // Bounds one socket's turn so a flooded socket cannot starve the others or outbound sends.
            let receiveBatch = 1024
            var busy = false
            var spinUntil: UInt64 = 0
            while true {
                var throttled = false
                for index in sockets.indices {
                    var events: Int32 = 0
                    if specs[index].kind.canReceive {
                        if backlogs[index].count.load(ordering: .relaxed) < specs[index].inboxCapacity {
                            events |= ZMQ_POLLIN
                        } else {
                            throttled = true
                        }
                    }
                    if pendingHead[index] < pending[index].count { events |= ZMQ_POLLOUT }
                    items[index + 1].events = Int16(events)
                    items[index + 1].revents = 0
                }
                items[0].revents = 0
                // Busy: callers are not signalling (see takeOutbound), so only peek. A throttled inbox
                // frees up without waking us, so poll it again shortly.
                // Just delivered something: a reply often follows within microseconds. Peeking (and
                // yielding the CPU to the task that replies) for a moment saves a sleep/wake-up pair.
                let spinning = !busy && monotonicNanoseconds() < spinUntil
                if spinning { sched_yield() }
                let rc = zmq_poll(&items, Int32(items.count), busy || spinning ? 0 : throttled ? 5 : 1000)
                if rc < 0 {
                    let errno = zmq_errno()
                    if errno == EINTR { continue }
                    logger.error("bus loop poll failed; closing the loop", metadata: ["loop": "\(loop.name)", "errno": "\(errno)"])
                    break
                }
                let woken = items[0].revents & Int16(ZMQ_POLLIN) != 0
                let (batch, stopping) = loop.takeOutbound(completed: &completed, woken: woken)
                if stopping { break }
                busy = !batch.isEmpty
                for message in batch { pending[message.socket].append(message) }

                var delivered = false
                for index in sockets.indices where items[index + 1].revents & Int16(ZMQ_POLLIN) != 0 {
                    delivered = receive(index, limit: receiveBatch) || delivered
                }
                if delivered { spinUntil = monotonicNanoseconds() + Self.replySpinNanoseconds }
                for index in sockets.indices where pendingHead[index] < pending[index].count {
                    flush(index)
                }
                // Sent messages free queue room that waiting senders need to hear about now, not after
                // the next wake-up: go round once more without sleeping.
                if !busy, completed.contains(where: { $0 != 0 }) { busy = true }
            }
            for socket in sockets { socket.close() }
            for continuation in continuations { continuation.finish() }
            loop.markStopped()
        }

        /// How long the loop keeps peeking after delivering messages; short enough to cost little CPU.
        static let replySpinNanoseconds: UInt64 = 50_000

        @discardableResult
        private func receive(_ index: Int, limit: Int) -> Bool {
            let socket = sockets[index]
            let spec = specs[index]
            let room = spec.inboxCapacity - backlogs[index].count.load(ordering: .relaxed)
            var batch: [BusFrame] = []
            var received = 0
            defer { deliver(batch, to: index) }
            while received < min(limit, room) {
                let parts: (first: [UInt8], second: [UInt8]?, extraFrames: Int)
                do {
                    guard let next = try socket.tryReceivePair() else { return !batch.isEmpty }
                    parts = next
                } catch {
                    logger.warning("bus receive failed", metadata: ["socket": "\(spec.name)", "error": "\(error)"])
                    return !batch.isEmpty
                }
                received += 1
                if spec.kind.receivesRoutingID {
                    guard let payload = parts.second, parts.extraFrames == 0 else {
                        loop.metrics.malformedFrame(socket: spec.name, reason: .unexpectedFrameCount)
                        continue
                    }
                    batch.append(BusFrame(routingID: parts.first, payload: payload))
                } else {
                    guard parts.second == nil else {
                        loop.metrics.malformedFrame(socket: spec.name, reason: .unexpectedFrameCount)
                        continue
                    }
                    batch.append(BusFrame(payload: parts.first))
                }
            }
            return !batch.isEmpty
        }

        private func deliver(_ batch: [BusFrame], to index: Int) {
            if batch.isEmpty { return }
            backlogs[index].count.add(batch.count, ordering: .relaxed)
            if case .terminated = continuations[index].yield(batch) {
                backlogs[index].count.subtract(batch.count, ordering: .relaxed)
            }
        }

        private func flush(_ index: Int) {
            let socket = sockets[index]
            let dropOnFull = specs[index].kind == .router
            while pendingHead[index] < pending[index].count {
                let message = pending[index][pendingHead[index]]
                let status: SendStatus
                do {
                    status = try socket.trySend(payload: message.payload, routingID: message.routingID)
                } catch {
                    logger.warning("bus send failed; message dropped", metadata: ["socket": "\(socket.name)", "error": "\(error)"])
                    status = .sent
                }
                switch status {
                case .sent, .unroutable:
                    if status == .unroutable {
                        logger.debug("bus message to a disconnected peer dropped", metadata: ["socket": "\(socket.name)"])
                    }
                    stalled[index] = false
                    pendingHead[index] += 1
                    completed[index] += 1
                case .wouldBlock:
                    if dropOnFull {
                        logger.warning("bus peer is not reading; message dropped", metadata: ["socket": "\(socket.name)"])
                        pendingHead[index] += 1
                        completed[index] += 1
                        continue
                    }
                    stalled[index] = true
                    if pendingHead[index] > 4096 {
                        pending[index].removeFirst(pendingHead[index])
                        pendingHead[index] = 0
                    }
                    return
                }
            }
            pending[index].removeAll(keepingCapacity: true)
            pendingHead[index] = 0
        }
    }
}

private func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
