import Logging
import Synchronization
import Wire
import WorkerRuntime

/// A process on the other end of the control socket, identified by its ROUTER routing id.
public struct ControlPeer: Hashable, Sendable, CustomStringConvertible {
    public let routingID: [UInt8]

    public init(routingID: [UInt8]) {
        self.routingID = routingID
    }

    public var description: String {
        "peer-" + routingID.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}

/// Something that arrived on the supervisor's control socket.
public enum ControlServerEvent: Sendable, Equatable {
    /// A worker is READY.
    case hello(WorkerHello, from: ControlPeer)
    case heartbeat(WorkerHeartbeat, from: ControlPeer)
    /// `supervisor ctl …`; answer with `ControlServer.reply(_:to:)`.
    case ctlRequest(CtlRequest, from: ControlPeer)
}

/// The supervisor's end of the control plane: a ROUTER bound at the control endpoint.
///
/// Workers (`WorkerControlClient`) and `supervisor ctl` (`CtlClient`) connect to it with DEALERs.
/// Frames that are not valid envelopes of the expected types are counted under
/// `chain_alerter_bus_malformed_frames_total{socket="control"}` and dropped.
public final class ControlServer: Sendable {
    public static let socketName = "control"

    /// What workers and ctl clients send; finishes after `close()`.
    public let events: AsyncStream<ControlServerEvent>
    public let endpoint: String
    private let loop: BusLoop
    private let writer: Mutex<EnvelopeWriter>
    private let logger: Logger

    /// Binds the ROUTER. Fails (with the endpoint in the error) if the ipc path cannot be created.
    public init(endpoint: String, logger: Logger, metrics: BusMetrics = BusMetrics(), context: ZMQContext = .shared,
                sender: String = "supervisor") throws(BusError) {
        let spec = SocketSpec(name: Self.socketName, kind: .router, attachments: [.bind(endpoint)], options: .control)
        let loop = try BusLoop(name: Self.socketName, sockets: [spec], context: context, logger: logger, metrics: metrics)
        self.loop = loop
        self.endpoint = endpoint
        self.logger = logger
        self.writer = Mutex(EnvelopeWriter(sender: sender))
        let (events, continuation) = AsyncStream.makeStream(of: ControlServerEvent.self)
        self.events = events
        let inbox = loop.inbox
        let maxFrameSize = Envelope.controlMaxFrameSize
        Task {
            var reader = EnvelopeReader(socket: Self.socketName, maxFrameSize: maxFrameSize, metrics: metrics)
            for await frame in inbox {
                guard let routingID = frame.routingID, let envelope = reader.open(frame.payload) else { continue }
                let peer = ControlPeer(routingID: routingID)
                do throws(EnvelopeError) {
                    switch envelope.header.messageType {
                    case .workerHello: continuation.yield(.hello(try envelope.decode(WorkerHello.self), from: peer))
                    case .workerHeartbeat: continuation.yield(.heartbeat(try envelope.decode(WorkerHeartbeat.self), from: peer))
                    case .ctlRequest: continuation.yield(.ctlRequest(try envelope.decode(CtlRequest.self), from: peer))
                    default:
                        throw .unexpectedMessageType(expected: [.workerHello, .workerHeartbeat, .ctlRequest], got: envelope.header.messageType)
                    }
                } catch {
                    reader.countRejected(error)
                    logger.debug("control frame dropped", metadata: ["peer": "\(peer)", "error": "\(error)"])
                }
            }
            continuation.finish()
        }
    }

    /// Answers a `CtlRequest` from `peer`. Never blocks; a peer that went away is counted and skipped.
    public func reply(_ response: CtlResponse, to peer: ControlPeer) throws(BusError) {
        try sendMessage(response, to: peer)
    }

    /// Sends a command to a worker. Never blocks; a worker that is gone or not reading loses it (counted).
    public func send(_ command: SupervisorCommand, to peer: ControlPeer) throws(BusError) {
        try sendMessage(command, to: peer)
    }

    private func sendMessage<M: BusMessage>(_ message: M, to peer: ControlPeer) throws(BusError) {
        let frame: [UInt8]
        do {
            frame = try writer.withLock { (writer: inout EnvelopeWriter) throws(EnvelopeError) -> [UInt8] in try writer.seal(message) }
        } catch {
            throw .unencodable(messageType: "\(M.messageType)", detail: error.description)
        }
        try loop.send(frame, routingID: peer.routingID)
    }

    /// Unbinds and stops; `events` finishes.
    public func close() {
        loop.close()
    }

    deinit {
        // The loop thread would otherwise keep the socket (and a bound endpoint) alive forever.
        loop.close()
    }

    /// Waits until the socket is closed (the endpoint can be bound again).
    public func closed() async {
        await loop.closed()
    }
}
