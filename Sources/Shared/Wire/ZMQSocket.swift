import CZeroMQ
import SubstratePrimitives

/// A libzmq context: owns the I/O threads. Thread-safe by libzmq's contract, so it is shared freely.
public final class ZMQContext: @unchecked Sendable {
    /// The process-wide context. Never terminated: it lives as long as the process.
    public static let shared = ZMQContext()

    let handle: UnsafeMutableRawPointer

    public init(ioThreads: Int32 = 1) {
        // zmq_ctx_new only fails when the process is out of file descriptors or memory at start-up.
        guard let handle = zmq_ctx_new() else {
            preconditionFailure("zmq_ctx_new failed: \(String(cString: zmq_strerror(zmq_errno())))")
        }
        zmq_ctx_set(handle, ZMQ_IO_THREADS, ioThreads)
        self.handle = handle
    }

    deinit {
        // Every BusLoop retains its context and closes its sockets with LINGER 0 before releasing it,
        // so termination here does not wait.
        zmq_ctx_term(handle)
    }
}

/// The ZeroMQ socket patterns the bus uses.
public enum SocketKind: String, Sendable, CaseIterable {
    /// Data path, fan-in to one receiver: never drops; a full queue makes sends report EAGAIN.
    case push
    case pull
    /// Requests and the control plane (workers and `ctl` connect DEALERs to the supervisor's ROUTER).
    case dealer
    case router
    /// Only where losing a message is acceptable: PUB drops silently at its high-water mark.
    case pub
    case sub

    var zmqType: Int32 {
        switch self {
        case .push: ZMQ_PUSH
        case .pull: ZMQ_PULL
        case .dealer: ZMQ_DEALER
        case .router: ZMQ_ROUTER
        case .pub: ZMQ_PUB
        case .sub: ZMQ_SUB
        }
    }

    /// Whether received messages carry a routing-id frame before the payload.
    public var receivesRoutingID: Bool { self == .router }
    /// Whether the socket can send at all.
    public var canSend: Bool { self != .pull && self != .sub }
    /// Whether the socket can receive at all.
    public var canReceive: Bool { self != .push && self != .pub }
}

/// Socket options the bus sets. Defaults are the project's policy: LINGER 0, bounded queues, bounded frames.
public struct SocketOptions: Sendable, Equatable {
    /// Milliseconds pending messages survive `close`. 0: a dying worker never hangs on a dead peer.
    public var lingerMilliseconds: Int32 = 0
    public var sendHighWaterMark: Int32 = 1000
    public var receiveHighWaterMark: Int32 = 1000
    /// ZMTP heartbeat interval; nil leaves ZMTP heartbeats off.
    public var heartbeatIntervalMilliseconds: Int32? = nil
    /// How long the remote side may go without hearing from us before it drops the connection.
    public var heartbeatTTLMilliseconds: Int32? = nil
    /// How long we wait for a heartbeat reply before dropping the connection.
    public var heartbeatTimeoutMilliseconds: Int32? = nil
    /// Peers sending a bigger message are disconnected by libzmq; -1 means unlimited. Twice the
    /// envelope limit by default: frames a little too big still arrive and are counted as `oversized`
    /// by the `EnvelopeReader`, while absurd ones cannot exhaust memory.
    public var maxMessageSize: Int64 = 2 * Int64(Envelope.defaultMaxFrameSize)
    /// Routing id of a DEALER (what the ROUTER on the other end sees); nil lets the ROUTER pick one.
    public var routingID: [UInt8]? = nil
    /// ROUTER only: report unroutable sends (EHOSTUNREACH) and full peers (EAGAIN) instead of dropping silently.
    public var routerMandatory: Bool = true
    /// ROUTER only: a new connection with a routing id already in use takes it over (a worker that
    /// reconnected, or its restarted successor) instead of being refused.
    public var routerHandover: Bool = false
    /// SUB only: topic prefixes to subscribe to; `[[]]` (the empty prefix) receives everything.
    public var subscriptions: [[UInt8]] = [[]]

    public init() {}

    /// Options for control-plane sockets: ZMTP heartbeats detect a dead peer within 3 s.
    public static var control: SocketOptions {
        var options = SocketOptions()
        options.heartbeatIntervalMilliseconds = 1000
        options.heartbeatTTLMilliseconds = 3000
        options.heartbeatTimeoutMilliseconds = 3000
        options.maxMessageSize = 2 * Int64(Envelope.controlMaxFrameSize)
        options.routerHandover = true
        return options
    }
}

/// The outcome of a non-blocking send.
public enum SendStatus: Sendable, Equatable {
    case sent
    /// EAGAIN: the high-water mark is reached (or, for a ROUTER, that peer's pipe is full).
    case wouldBlock
    /// EHOSTUNREACH: a ROUTER send named a peer that is not connected.
    case unroutable
}

/// One libzmq socket. Not `Sendable`: a socket belongs to one thread (normally a `BusLoop`'s).
public final class ZMQSocket {
    public let kind: SocketKind
    /// Name used in metric labels and log lines (e.g. `control`, `block-seen-in`).
    public let name: String
    let handle: UnsafeMutableRawPointer
    private let metrics: BusMetrics?
    private var isClosed = false
    // Keeps the context alive as long as the socket: zmq_ctx_term would otherwise wait forever on it.
    private let context: ZMQContext

    public init(context: ZMQContext, kind: SocketKind, name: String, options: SocketOptions = SocketOptions(), metrics: BusMetrics? = nil) throws(BusError) {
        guard let handle = zmq_socket(context.handle, kind.zmqType) else {
            throw .zmq(operation: "socket(\(kind.rawValue))", endpoint: nil, errno: zmq_errno())
        }
        self.handle = handle
        self.kind = kind
        self.name = name
        self.metrics = metrics
        self.context = context
        do {
            try apply(options)
        } catch {
            zmq_close(handle)
            isClosed = true
            throw error
        }
    }

    deinit {
        close()
    }

    private func apply(_ options: SocketOptions) throws(BusError) {
        try set(ZMQ_LINGER, options.lingerMilliseconds, "LINGER")
        try set(ZMQ_SNDHWM, options.sendHighWaterMark, "SNDHWM")
        try set(ZMQ_RCVHWM, options.receiveHighWaterMark, "RCVHWM")
        var maxSize = options.maxMessageSize
        try check(zmq_setsockopt(handle, ZMQ_MAXMSGSIZE, &maxSize, MemoryLayout<Int64>.size), "setsockopt(MAXMSGSIZE)")
        if let value = options.heartbeatIntervalMilliseconds { try set(ZMQ_HEARTBEAT_IVL, value, "HEARTBEAT_IVL") }
        if let value = options.heartbeatTTLMilliseconds { try set(ZMQ_HEARTBEAT_TTL, value, "HEARTBEAT_TTL") }
        if let value = options.heartbeatTimeoutMilliseconds { try set(ZMQ_HEARTBEAT_TIMEOUT, value, "HEARTBEAT_TIMEOUT") }
        if let routingID = options.routingID {
            let rc = routingID.withUnsafeBytes { zmq_setsockopt(handle, ZMQ_ROUTING_ID, $0.baseAddress, $0.count) }
            try check(rc, "setsockopt(ROUTING_ID)")
        }
        if kind == .router, options.routerMandatory { try set(ZMQ_ROUTER_MANDATORY, 1, "ROUTER_MANDATORY") }
        if kind == .router, options.routerHandover { try set(ZMQ_ROUTER_HANDOVER, 1, "ROUTER_HANDOVER") }
        if kind == .sub {
            for prefix in options.subscriptions {
                let rc = prefix.withUnsafeBytes { zmq_setsockopt(handle, ZMQ_SUBSCRIBE, $0.baseAddress, $0.count) }
                try check(rc, "setsockopt(SUBSCRIBE)")
            }
        }
    }

    private func set(_ option: Int32, _ value: Int32, _ label: String) throws(BusError) {
        var value = value
        try check(zmq_setsockopt(handle, option, &value, MemoryLayout<Int32>.size), "setsockopt(\(label))")
    }

    private func check(_ rc: Int32, _ operation: String, endpoint: String? = nil) throws(BusError) {
        if rc != 0 { throw .zmq(operation: operation, endpoint: endpoint, errno: zmq_errno()) }
    }

    /// Binds; for ipc:// the socket file is created (a stale one from a crashed run is replaced by libzmq).
    public func bind(_ endpoint: String) throws(BusError) {
        try BusEndpoints.validate(endpoint)
        try check(zmq_bind(handle, endpoint), "bind", endpoint: endpoint)
    }

    /// Connects; never waits for the peer: libzmq connects (and reconnects) in the background.
    public func connect(_ endpoint: String) throws(BusError) {
        try BusEndpoints.validate(endpoint)
        try check(zmq_connect(handle, endpoint), "connect", endpoint: endpoint)
    }

    /// Sends one frame without blocking. EAGAIN and EHOSTUNREACH are outcomes, counted, not errors.
    public func trySend(_ bytes: [UInt8], more: Bool = false) throws(BusError) -> SendStatus {
        let flags = ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0)
        let rc = bytes.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
        if rc >= 0 { return .sent }
        let errno = zmq_errno()
        switch errno {
        case EAGAIN:
            metrics?.sendWouldBlock(socket: name)
            return .wouldBlock
        case EHOSTUNREACH:
            metrics?.sendUnroutable(socket: name)
            return .unroutable
        default:
            throw .zmq(operation: "send", endpoint: nil, errno: errno)
        }
    }

    /// Sends a message (optionally prefixed by a ROUTER routing-id frame) without blocking.
    public func trySend(payload: [UInt8], routingID: [UInt8]?) throws(BusError) -> SendStatus {
        if let routingID {
            // A ROUTER reports a full or unknown peer on the first frame; once it is accepted the
            // rest of the multipart message cannot fail.
            let status = try trySend(routingID, more: true)
            if status != .sent { return status }
        }
        return try trySend(payload, more: false)
    }

    /// Receives one message of one or two frames without blocking (the bus's shapes: payload, or
    /// routing id + payload); `extraFrames` counts any frames past the second, which are discarded.
    func tryReceivePair() throws(BusError) -> (first: [UInt8], second: [UInt8]?, extraFrames: Int)? {
        var message = zmq_msg_t()
        zmq_msg_init(&message)
        defer { zmq_msg_close(&message) }
        func take(_ flags: Int32) throws(BusError) -> [UInt8]? {
            let rc = zmq_msg_recv(&message, handle, flags)
            if rc < 0 {
                let errno = zmq_errno()
                if flags == ZMQ_DONTWAIT, errno == EAGAIN || errno == EINTR { return nil }
                throw .zmq(operation: "receive", endpoint: nil, errno: errno)
            }
            let size = zmq_msg_size(&message)
            if size == 0 { return [] }
            return Array(UnsafeRawBufferPointer(start: zmq_msg_data(&message), count: size))
        }
        guard let first = try take(ZMQ_DONTWAIT) else { return nil }
        if zmq_msg_more(&message) == 0 { return (first, nil, 0) }
        // Later parts of a multipart message are already here (delivery is atomic), so this never waits.
        let second = try take(0) ?? []
        var extra = 0
        while zmq_msg_more(&message) != 0 {
            _ = try take(0)
            extra += 1
        }
        return (first, second, extra)
    }

    /// Receives one whole multipart message without blocking; nil when nothing is waiting.
    public func tryReceive() throws(BusError) -> [[UInt8]]? {
        var frames: [[UInt8]] = []
        var message = zmq_msg_t()
        zmq_msg_init(&message)
        defer { zmq_msg_close(&message) }
        while true {
            let rc = zmq_msg_recv(&message, handle, frames.isEmpty ? ZMQ_DONTWAIT : 0)
            if rc < 0 {
                let errno = zmq_errno()
                if errno == EAGAIN, frames.isEmpty { return nil }
                if errno == EINTR, frames.isEmpty { return nil }
                throw .zmq(operation: "receive", endpoint: nil, errno: errno)
            }
            let size = zmq_msg_size(&message)
            if size == 0 {
                frames.append([])
            } else {
                let data = zmq_msg_data(&message)!
                frames.append(Array(UnsafeRawBufferPointer(start: data, count: size)))
            }
            // Later parts of a multipart message are already here (ZeroMQ delivers messages atomically),
            // so the blocking flag above never waits.
            if zmq_msg_more(&message) == 0 { return frames }
        }
    }

    /// Closes the socket now; pending outbound messages are dropped (LINGER 0).
    public func close() {
        if isClosed { return }
        isClosed = true
        zmq_close(handle)
    }
}
