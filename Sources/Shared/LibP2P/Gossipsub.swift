import Foundation
import Logging
import Metrics
import NIOConcurrencyHelpers

/// gossipsub (`/meshsub/1.1.0`, `/meshsub/1.0.0`) on a `P2PHost`: the network side of `GossipsubRouter`.
/// Each peer gets one outbound stream for our RPCs (written by one task, in order) and may open one inbound.
public final class Gossipsub: Sendable {
    public static let protocols = ["/meshsub/1.1.0", "/meshsub/1.0.0"]

    let host: P2PHost
    let parameters: GossipsubParameters
    private let router: NIOLockedValueBox<GossipsubRouter>
    private let writers = NIOLockedValueBox<[PeerID: AsyncStream<[UInt8]>.Continuation]>([:])
    private let nextSeqno: NIOLockedValueBox<UInt64>
    private let heartbeatTask = NIOLockedValueBox<Task<Void, Never>?>(nil)
    private let delivered: AsyncStream<GossipMessage>.Continuation
    /// Messages of joined topics that passed signature checks and the validator, in arrival order.
    public let messages: AsyncStream<GossipMessage>

    public init(host: P2PHost, parameters: GossipsubParameters = .init(),
                validator: @escaping @Sendable (GossipMessage) -> GossipValidation = { _ in .accept }) {
        self.host = host
        self.parameters = parameters
        router = NIOLockedValueBox(GossipsubRouter(localPeer: host.peerID, parameters: parameters, validator: validator))
        // Nanosecond time as the first seqno, as go-libp2p-pubsub does, so that a restart does not reuse seqnos.
        nextSeqno = NIOLockedValueBox(UInt64(Date().timeIntervalSince1970 * 1e9))
        (messages, delivered) = AsyncStream.makeStream(of: GossipMessage.self, bufferingPolicy: .bufferingNewest(4096))
        for id in Self.protocols {
            host.setHandler(id) { [weak self] stream in try await self?.serveInbound(stream) }
        }
    }

    /// Starts the 1 s heartbeat.
    public func start() {
        let interval = parameters.heartbeatInterval
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self else { return }
                let actions = self.router.withLockedValue { $0.heartbeat(now: .now) }
                self.perform(actions)
            }
        }
        heartbeatTask.withLockedValue { $0 = task }
    }

    /// Stops the heartbeat and the writers.
    public func stop() {
        heartbeatTask.withLockedValue { $0?.cancel(); $0 = nil }
        let all = writers.withLockedValue { w in defer { w.removeAll() }; return Array(w.values) }
        for writer in all { writer.finish() }
        delivered.finish()
    }

    /// Peers in `topic`'s mesh.
    public func meshPeers(_ topic: String) -> [PeerID] { Array(router.withLockedValue { $0.mesh[topic] ?? [] }) }

    /// Peers known to be subscribed to `topic`.
    public func topicPeers(_ topic: String) -> [PeerID] { router.withLockedValue { $0.peers(in: topic) } }

    /// Messages dropped for a bad signature or a validator's rejection.
    public var rejectedCount: Int { router.withLockedValue { $0.rejectedCount } }

    /// Opens our RPC stream to the peer on `connection` (if not open yet) and sends our subscriptions.
    public func addPeer(_ connection: P2PConnection) async throws {
        let peer = connection.remotePeer
        guard writers.withLockedValue({ $0[peer] == nil }) else { return }
        let stream = try await connection.openStream(Self.protocols)
        let (queue, continuation) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .bufferingNewest(1024))
        let isNew = writers.withLockedValue { w -> Bool in
            guard w[peer] == nil else { return false }
            w[peer] = continuation
            return true
        }
        guard isNew else { await stream.reset(); return }
        Task { [weak self] in
            for await rpc in queue {
                do { try await stream.writeMessage(rpc) } catch { break }
            }
            await stream.reset()
            self?.peerGone(peer)
        }
        Task { [weak self] in
            await connection.waitClosed()
            self?.peerGone(peer)
        }
        // Some implementations (py-libp2p) write their RPCs back on the stream we opened, so it is read too.
        Task { [weak self] in
            do { try await self?.readRPCs(from: stream) } catch {
                self?.host.logger.debug("gossipsub: RPC stream ended", metadata: ["peer": "\(peer)", "error": "\(error)"])
            }
        }
        perform(router.withLockedValue { $0.addPeer(peer) })
    }

    private func peerGone(_ peer: PeerID) {
        let writer = writers.withLockedValue { $0.removeValue(forKey: peer) }
        writer?.finish()
        router.withLockedValue { $0.removePeer(peer) }
    }

    /// Joins `topic` (announces it and grafts peers into its mesh).
    public func join(_ topic: String) {
        perform(router.withLockedValue { $0.join(topic, now: .now) })
    }

    /// Publishes one signed message.
    public func publish(topic: String, data: [UInt8]) throws {
        let seqno = nextSeqno.withLockedValue { s in defer { s &+= 1 }; return s }
        let identity = host.identity
        perform(try router.withLockedValue { try $0.publish(topic: topic, data: data, identity: identity, seqno: seqno, now: .now) })
    }

    private func serveInbound(_ stream: P2PStream) async throws {
        let peer = stream.remotePeer
        host.logger.trace("gossipsub: inbound stream", metadata: ["peer": "\(peer)", "protocol": "\(stream.protocolID)"])
        if writers.withLockedValue({ $0[peer] == nil }) {
            let connection = stream.connection
            Task { try? await self.addPeer(connection) }
        }
        try await readRPCs(from: stream)
    }

    private func readRPCs(from stream: P2PStream) async throws {
        let peer = stream.remotePeer
        while true {
            let bytes: [UInt8]
            do { bytes = try await stream.readMessage(limit: parameters.maxRPCSize) } catch P2PStreamError.endOfStream { return }
            let rpc: P2p_Pubsub_RPC
            do { rpc = try P2p_Pubsub_RPC(serializedBytes: bytes) } catch {
                throw P2PDecodingError.invalid("gossipsub RPC is not an RPC protobuf")
            }
            host.logger.trace("gossipsub: RPC", metadata: ["peer": "\(peer)", "subscriptions": "\(rpc.subscriptions.count)",
                                                           "messages": "\(rpc.publish.count)", "control": "\(rpc.hasControl ? "\(rpc.control)" : "-")"])
            guard let actions = router.withLockedValue({ $0.handle(rpc, from: peer, now: .now) }) else {
                Counter(label: "chain_alerter_p2p_gossipsub_rpcs_dropped_total", dimensions: [("reason", "rate_limit")]).increment()
                continue
            }
            perform(actions)
        }
    }

    private func perform(_ actions: [GossipsubRouter.Action]) {
        for action in actions {
            switch action {
            case .deliver(let message):
                delivered.yield(message)
            case .send(let peer, let rpc):
                guard let bytes: [UInt8] = try? rpc.serializedBytes(), bytes.count <= parameters.maxRPCSize else { continue }
                _ = writers.withLockedValue { $0[peer] }?.yield(bytes)
            }
        }
    }
}
