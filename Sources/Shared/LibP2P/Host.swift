import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A stream negotiated for one protocol on a connection to a peer: what a protocol handler reads and writes.
public struct P2PStream: Sendable {
    /// The protocol id both sides agreed on.
    public let protocolID: String
    /// The peer at the other end.
    public let remotePeer: PeerID
    /// The underlying yamux stream (read, write, half-close, reset).
    public let stream: YamuxStream
    /// The connection it belongs to.
    public let connection: P2PConnection

    public func read() async throws -> ByteBuffer? { try await stream.readChunk() }
    public func write(_ bytes: ByteBuffer) async throws { try await stream.write(bytes) }
    public func write(_ bytes: [UInt8]) async throws { try await stream.write(ByteBuffer(bytes: bytes)) }
    /// Reads one `varint(length) ‖ message`, refusing lengths over `limit` before reading them.
    public func readMessage(limit: Int) async throws -> [UInt8] {
        Array(try await stream.readLengthPrefixed(limit: limit).readableBytesView)
    }
    /// Writes one `varint(length) ‖ message`.
    public func writeMessage(_ message: [UInt8]) async throws { try await stream.writeLengthPrefixed(message) }
    public func closeWrite() async throws { try await stream.closeWrite() }
    public func reset() async { await stream.reset() }
}

/// A handler for inbound streams of one protocol. It owns the stream; returning ends the stream (half-close).
public typealias P2PStreamHandler = @Sendable (P2PStream) async throws -> Void

/// An upgraded connection (TCP, Noise, yamux) to one peer.
public final class P2PConnection: Sendable, CustomStringConvertible {
    /// The peer's proven identity.
    public let remotePeer: PeerID
    /// The address we dialed, or the one the peer connected from.
    public let remoteAddress: Multiaddr?
    /// Whether we dialed.
    public let isOutbound: Bool
    let session: YamuxSession
    let channel: any Channel

    init(remotePeer: PeerID, remoteAddress: Multiaddr?, isOutbound: Bool, session: YamuxSession, channel: any Channel) {
        self.remotePeer = remotePeer
        self.remoteAddress = remoteAddress
        self.isOutbound = isOutbound
        self.session = session
        self.channel = channel
    }

    public var description: String { "\(remotePeer)@\(remoteAddress?.description ?? "?")" }

    /// Opens a stream and negotiates the first of `protocols` that the peer supports.
    public func openStream(_ protocols: [String]) async throws -> P2PStream {
        let stream = try await session.openStream()
        do {
            let agreed = try await Multistream.select(protocols, on: stream)
            return P2PStream(protocolID: agreed, remotePeer: remotePeer, stream: stream, connection: self)
        } catch {
            await stream.reset()
            throw error
        }
    }

    /// Opens a stream for `protocolID`.
    public func openStream(_ protocolID: String) async throws -> P2PStream { try await openStream([protocolID]) }

    /// Whether the connection is still open.
    public var isActive: Bool { channel.isActive }

    /// A yamux-level ping.
    public func muxerPing() async throws -> Duration { try await session.ping() }

    /// Closes the connection (yamux go-away, then TCP close).
    public func close() async { await session.close() }

    /// Completes when the connection has closed.
    public func waitClosed() async { try? await channel.closeFuture.get() }
}

/// Options of a `P2PHost`.
public struct P2PHostOptions: Sendable {
    /// identify's `agentVersion`.
    public var agentVersion = "chain-alerter/libp2p"
    /// Streams one connection may have open at once.
    public var maxStreamsPerConnection = 256
    /// Time a peer has to finish the connection upgrade.
    public var upgradeTimeout: Duration = .seconds(10)
    /// Addresses identify advertises (none by default).
    public var listenAddresses: [Multiaddr] = []

    public init() {}
}

/// A libp2p host: an identity, a listener, outbound dials, and the protocol handlers inbound streams reach.
/// identify (`/ipfs/id/1.0.0`) and ping (`/ipfs/ping/1.0.0`) are always served.
public final class P2PHost: Sendable {
    /// This host's identity.
    public let identity: IdentityKey
    public var peerID: PeerID { identity.peerID }
    public let options: P2PHostOptions
    let group: any EventLoopGroup
    let logger: Logger
    let malformedInput: P2PMalformedInputCounter

    private struct State {
        var handlers: [String: P2PStreamHandler] = [:]
        var connections: [ObjectIdentifier: P2PConnection] = [:]
        var listeners: [any Channel] = []
        var listenAddresses: [Multiaddr] = []
        var closed = false
    }
    private let state = NIOLockedValueBox(State())

    public init(identity: IdentityKey, options: P2PHostOptions = .init(), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger) {
        self.identity = identity
        self.options = options
        self.group = group
        self.logger = logger
        malformedInput = P2PMalformedInputCounter()
        setHandler(Identify.protocolID) { [weak self] stream in
            guard let self else { return }
            try await Identify.answer(on: stream, host: self)
        }
        setHandler(Ping.protocolID) { stream in try await Ping.answer(on: stream) }
    }

    /// Registers (or replaces) the handler for inbound streams of `protocolID`.
    public func setHandler(_ protocolID: String, _ handler: @escaping P2PStreamHandler) {
        state.withLockedValue { $0.handlers[protocolID] = handler }
    }

    /// Removes a handler.
    public func removeHandler(_ protocolID: String) { _ = state.withLockedValue { $0.handlers.removeValue(forKey: protocolID) } }

    /// The protocol ids this host serves.
    public var protocols: [String] { state.withLockedValue { $0.handlers.keys.sorted() } }

    /// The open connections.
    public var connections: [P2PConnection] { state.withLockedValue { Array($0.connections.values) } }

    /// The addresses identify reports: the configured ones, else the bound listeners.
    public var advertisedAddresses: [Multiaddr] {
        options.listenAddresses.isEmpty ? state.withLockedValue { $0.listenAddresses } : options.listenAddresses
    }

    // MARK: Listening

    /// Listens on `/ip4|ip6/…/tcp/PORT` (port 0 picks one) and returns the bound address with `/p2p/<id>`.
    @discardableResult
    public func listen(_ address: Multiaddr) async throws -> Multiaddr {
        guard let target = address.tcpTarget else { throw P2PDialError.unsupportedAddress(address.description) }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [weak self] channel in
                let (handler, queue) = TCPStream.makeHandler(for: channel)
                let host = self
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(handler)
                }.map {
                    guard let host else { channel.close(promise: nil); return }
                    let remote = channel.remoteAddress.flatMap(P2PHost.multiaddr(of:))
                    Task { await host.accept(TCPStream(channel: channel, queue: queue), remote: remote) }
                }
            }
        let channel = try await bootstrap.bind(host: target.host, port: target.port).get()
        guard let bound = channel.localAddress.flatMap(Self.multiaddr(of:)) else { throw P2PDialError.unsupportedAddress(address.description) }
        state.withLockedValue { $0.listeners.append(channel); $0.listenAddresses.append(bound) }
        return Multiaddr(bound.components + [.p2p(peerID)])
    }

    static func multiaddr(of address: SocketAddress) -> Multiaddr? {
        guard let port = address.port, let ip = address.ipAddress else { return nil }
        switch address {
        case .v4: return Multiaddr.parseIPv4(ip).map { Multiaddr([.ip4($0), .tcp(UInt16(port))]) }
        case .v6: return Multiaddr.parseIPv6(ip).map { Multiaddr([.ip6($0), .tcp(UInt16(port))]) }
        default: return nil
        }
    }

    private func accept(_ transport: TCPStream, remote: Multiaddr?) async {
        do {
            let connection = try await withUpgradeTimeout(transport) {
                _ = try await Multistream.negotiate(supported: ["/noise"], on: transport)
                self.logger.trace("p2p: inbound /noise agreed")
                let secure = try await NoiseStream.handshake(on: transport, identity: self.identity, initiator: false, expectedPeer: nil)
                self.logger.trace("p2p: inbound Noise done", metadata: ["peer": "\(secure.remotePeer)"])
                _ = try await Multistream.negotiate(supported: [YamuxSession.protocolID], on: secure)
                self.logger.trace("p2p: inbound yamux agreed")
                return self.makeConnection(secure: secure, isClient: false, remote: remote)
            }
            logger.debug("p2p: inbound connection", metadata: ["peer": "\(connection.remotePeer)"])
        } catch {
            record(error, peer: remote?.description ?? "?")
            await transport.reset()
        }
    }

    // MARK: Dialing

    /// Dials `/ip4|ip6|dns4|dns6/…/tcp/…[/p2p/ID]`; with `/p2p/ID` the remote must prove that identity.
    public func dial(_ address: Multiaddr) async throws -> P2PConnection {
        guard let target = address.tcpTarget else { throw P2PDialError.unsupportedAddress(address.description) }
        let bootstrap = ClientBootstrap(group: group)
            .channelOption(.autoRead, value: false)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
        let queueBox = NIOLockedValueBox<ChunkQueue?>(nil)
        let channel: any Channel
        do {
            channel = try await bootstrap.channelInitializer { channel in
                let (handler, queue) = TCPStream.makeHandler(for: channel)
                queueBox.withLockedValue { $0 = queue }
                return channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
            }.connect(host: target.host, port: target.port).get()
        } catch {
            throw P2PDialError.connectFailed(address.description, "\(error)")
        }
        let transport = TCPStream(channel: channel, queue: queueBox.withLockedValue { $0! })
        do {
            return try await withUpgradeTimeout(transport) {
                _ = try await Multistream.select(["/noise"], on: transport)
                self.logger.trace("p2p: outbound /noise agreed")
                let secure = try await NoiseStream.handshake(on: transport, identity: self.identity, initiator: true, expectedPeer: address.peerID)
                self.logger.trace("p2p: outbound Noise done", metadata: ["peer": "\(secure.remotePeer)"])
                _ = try await Multistream.select([YamuxSession.protocolID], on: secure)
                self.logger.trace("p2p: outbound yamux agreed")
                return self.makeConnection(secure: secure, isClient: true, remote: address)
            }
        } catch {
            await transport.reset()
            throw error
        }
    }

    private func withUpgradeTimeout<T: Sendable>(_ transport: TCPStream, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let limit = options.upgradeTimeout.components
        let nanoseconds = limit.seconds * 1_000_000_000 + limit.attoseconds / 1_000_000_000
        let timer = transport.channel.eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) {
            transport.queue.finish(P2PStreamError.timedOut("the connection upgrade"))
            transport.channel.close(promise: nil)
        }
        defer { timer.cancel() }
        return try await body()
    }

    private func makeConnection(secure: NoiseStream, isClient: Bool, remote: Multiaddr?) -> P2PConnection {
        let box = NIOLockedValueBox<P2PConnection?>(nil)
        let session = YamuxSession(connection: secure, isClient: isClient, maxStreams: options.maxStreamsPerConnection) { [weak self] stream in
            guard let self, let connection = box.withLockedValue({ $0 }) else { Task { await stream.reset() }; return }
            Task { await self.serveInbound(stream, on: connection) }
        }
        let connection = P2PConnection(remotePeer: secure.remotePeer, remoteAddress: remote, isOutbound: isClient, session: session,
                                       channel: secure.transport.channel)
        box.withLockedValue { $0 = connection }
        let key = ObjectIdentifier(connection)
        state.withLockedValue { $0.connections[key] = connection }
        Task {
            do { try await session.run() } catch { self.record(error, peer: connection.remotePeer.description) }
            secure.transport.channel.close(promise: nil)
            _ = self.state.withLockedValue { $0.connections.removeValue(forKey: key) }
        }
        return connection
    }

    private func serveInbound(_ stream: YamuxStream, on connection: P2PConnection) async {
        do {
            let supported = protocols
            let agreed = try await Multistream.negotiate(supported: supported, on: stream)
            guard let handler = state.withLockedValue({ $0.handlers[agreed] }) else { await stream.reset(); return }
            try await handler(P2PStream(protocolID: agreed, remotePeer: connection.remotePeer, stream: stream, connection: connection))
            try? await stream.closeWrite()
        } catch {
            if let decoding = error as? P2PDecodingError {
                record(decoding, peer: connection.remotePeer.description)
            } else {
                logger.debug("p2p: inbound stream ended", metadata: ["peer": "\(connection.remotePeer)", "error": "\(error)"])
            }
            await stream.reset()
        }
    }

    /// Counts malformed input by reason; other failures are only logged.
    func record(_ error: any Error, peer: String) {
        let reason: String? = switch error {
        case let e as P2PDecodingError: e.metricReason
        case let e as NoiseError: e == .decryptionFailed ? "noise_decrypt" : "noise_handshake"
        case is MultistreamError: "multistream"
        default: nil
        }
        if let reason {
            malformedInput.increment(reason: reason)
            logger.info("p2p: disconnected a peer that sent malformed bytes", metadata: ["peer": "\(peer)", "reason": "\(reason)", "error": "\(error)"])
        } else {
            logger.debug("p2p: connection ended", metadata: ["peer": "\(peer)", "error": "\(error)"])
        }
    }

    /// Closes listeners and connections.
    public func close() async {
        let (listeners, connections) = state.withLockedValue { s in
            s.closed = true
            defer { s.listeners.removeAll(); s.connections.removeAll() }
            return (s.listeners, Array(s.connections.values))
        }
        for listener in listeners { try? await listener.close().get() }
        for connection in connections { await connection.close() }
    }
}

/// `chain_alerter_p2p_malformed_input_total{reason=…}`: peers disconnected for malformed bytes, by reason.
struct P2PMalformedInputCounter: Sendable {
    static let label = "chain_alerter_p2p_malformed_input_total"
    func increment(reason: String) { Counter(label: Self.label, dimensions: [("reason", reason)]).increment() }
}

/// Why a dial failed before the connection was upgraded.
public enum P2PDialError: Error, Equatable, CustomStringConvertible {
    case unsupportedAddress(String)
    case connectFailed(String, String)

    public var description: String {
        switch self {
        case .unsupportedAddress(let a): "cannot dial \(a): only /ip4, /ip6, /dns4 and /dns6 with /tcp are dialable (resolve /dnsaddr first)"
        case .connectFailed(let a, let why): "TCP connect to \(a) failed: \(why)"
        }
    }
}
