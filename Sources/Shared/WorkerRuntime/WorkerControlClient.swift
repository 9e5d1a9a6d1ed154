import Glibc
import Logging
import Synchronization
import Wire
import SubstratePrimitives

/// A worker's end of the control plane: a DEALER connected to the supervisor's control ROUTER.
///
/// It says READY (`WorkerHello`) and sends heartbeats; `commands` delivers what the supervisor says.
/// Heartbeats are driven by `runHeartbeats`, a loop the worker runs on its own concurrency (the
/// `WorkerRuntime` runs it on the main actor), so a worker whose main loop is stuck stops
/// heartbeating and the supervisor notices. No thread heartbeats on the worker's behalf.
public final class WorkerControlClient: Sendable {
    public static let socketName = "control-client"

    public let worker: String
    public let role: WorkerRole
    public let endpoint: String
    /// Commands from the supervisor; finishes after `close()`.
    public let commands: AsyncStream<SupervisorCommand>
    private let pid: Int32
    private let loop: BusLoop
    private let state: Mutex<(writer: EnvelopeWriter, heartbeats: UInt64)>
    private let logger: Logger

    /// Connects (in the background: the supervisor may bind later). Sends nothing until `sendHello()`.
    public init(endpoint: String, worker: String, role: WorkerRole, pid: Int32 = getpid(), logger: Logger,
                metrics: BusMetrics = BusMetrics(), context: ZMQContext = .shared) throws(BusError) {
        var options = SocketOptions.control
        // The worker name as routing id keeps the supervisor's ControlPeer for a worker stable across
        // reconnects (ZMTP heartbeats drop a SIGSTOPped worker's connection); the ROUTER hands it over.
        let name = Array(worker.utf8)
        if (1 ... 255).contains(name.count), name[0] != 0 { options.routingID = name }
        let spec = SocketSpec(name: Self.socketName, kind: .dealer, attachments: [.connect(endpoint)], options: options,
                              outboundCapacity: 64)
        let loop = try BusLoop(name: Self.socketName, sockets: [spec], context: context, logger: logger, metrics: metrics)
        self.loop = loop
        self.worker = worker
        self.role = role
        self.endpoint = endpoint
        self.pid = pid
        self.logger = logger
        self.state = Mutex((EnvelopeWriter(sender: worker), 0))
        let (commands, continuation) = AsyncStream.makeStream(of: SupervisorCommand.self)
        self.commands = commands
        let inbox = loop.inbox
        let maxFrameSize = Envelope.controlMaxFrameSize
        Task {
            var reader = EnvelopeReader(socket: Self.socketName, maxFrameSize: maxFrameSize, metrics: metrics)
            for await frame in inbox {
                guard let envelope = reader.open(frame.payload) else { continue }
                do throws(EnvelopeError) {
                    continuation.yield(try envelope.decode(SupervisorCommand.self))
                } catch {
                    reader.countRejected(error)
                    logger.debug("control frame dropped", metadata: ["error": "\(error)"])
                }
            }
            continuation.finish()
        }
    }

    /// Tells the supervisor this worker is READY.
    public func sendHello() throws(BusError) {
        try sendMessage(WorkerHello(worker: worker, role: role, pid: pid))
    }

    /// Sends one heartbeat now.
    public func sendHeartbeat(status: [String: String] = [:], metrics: String? = nil) throws(BusError) {
        let sequence = state.withLock { state in
            state.heartbeats += 1
            return state.heartbeats
        }
        try sendMessage(WorkerHeartbeat(worker: worker, pid: pid, sequence: sequence, status: status, metrics: metrics))
    }

    /// Heartbeats every `interval` until the calling task is cancelled. It runs on the caller's actor
    /// (`isolation`), so called from the worker's main actor, heartbeats stop when that actor is stuck.
    /// `metrics` is called once per heartbeat (the worker's Prometheus exposition, see `WorkerMetricsExport`).
    public func runHeartbeats(every interval: Duration = .seconds(1), status: () -> [String: String] = { [:] },
                              metrics: () -> String? = { nil },
                              isolation: isolated (any Actor)? = #isolation) async {
        while !Task.isCancelled {
            do {
                try sendHeartbeat(status: status(), metrics: metrics())
            } catch {
                // The supervisor is slow or gone; it will see missed heartbeats, and we exit via the parent check.
                logger.debug("heartbeat not sent", metadata: ["error": "\(error)"])
            }
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
        }
    }

    private func sendMessage<M: BusMessage>(_ message: M) throws(BusError) {
        let frame: [UInt8]
        do {
            frame = try state.withLock { (state: inout (writer: EnvelopeWriter, heartbeats: UInt64)) throws(EnvelopeError) -> [UInt8] in
                try state.writer.seal(message)
            }
        } catch {
            throw .unencodable(messageType: "\(M.messageType)", detail: error.description)
        }
        try loop.send(frame)
    }

    /// Disconnects; `commands` finishes. Unsent messages are dropped (LINGER 0).
    public func close() {
        loop.close()
    }

    deinit {
        // The loop thread would otherwise keep the socket (and a bound endpoint) alive forever.
        loop.close()
    }

    /// Waits until the socket is closed.
    public func closed() async {
        await loop.closed()
    }
}
