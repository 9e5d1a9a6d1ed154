import Crypto
import Foundation

/// A pubsub message as the application sees it.
public struct GossipMessage: Sendable, Equatable {
    public var from: PeerID
    public var seqno: [UInt8]
    public var topic: String
    public var data: [UInt8]
    /// gossipsub's default message ID: from ‖ seqno.
    public var id: [UInt8] { from.bytes + seqno }
}

/// The application validator's verdict: deliver and relay, drop and penalise, or drop quietly.
public enum GossipValidation: Sendable {
    case accept, reject, ignore
}

/// gossipsub parameters (gossipsub v1.0/v1.1 spec defaults).
public struct GossipsubParameters: Sendable {
    public var d = 6, dLow = 5, dHigh = 12, dLazy = 6
    public var heartbeatInterval: Duration = .seconds(1)
    public var historyLength = 5, historyGossip = 3
    public var seenTTL: Duration = .seconds(120)
    public var pruneBackoff: Duration = .seconds(60)
    /// Largest RPC accepted or sent.
    public var maxRPCSize = 1 << 20
    /// Inbound RPCs one peer may send per second before the rest are dropped.
    public var maxRPCsPerPeerPerSecond = 100
    public var maxIHaveIDs = 5000
    public init() {}
}

/// The gossipsub state machine, with no I/O: each input returns what to send and what to deliver.
/// Time is passed in (`now`), so that tests drive heartbeats, backoff and cache expiry without sleeping.
struct GossipsubRouter {
    enum Action: Equatable {
        case send(PeerID, P2p_Pubsub_RPC)
        case deliver(GossipMessage)
    }

    typealias Instant = ContinuousClock.Instant
    let parameters: GossipsubParameters
    let localPeer: PeerID
    var validator: @Sendable (GossipMessage) -> GossipValidation

    private(set) var subscriptions: Set<String> = []
    private(set) var peerTopics: [PeerID: Set<String>] = [:]
    private(set) var mesh: [String: Set<PeerID>] = [:]
    private var backoff: [String: [PeerID: Instant]] = [:]
    private var seen: [[UInt8]: Instant] = [:]
    /// Message cache: the full messages of the last `historyLength` heartbeats, newest window first.
    private var cacheWindows: [[[UInt8]]] = [[]]
    private var cache: [[UInt8]: P2p_Pubsub_Message] = [:]
    private var rateWindow: [PeerID: (start: Instant, count: Int)] = [:]
    private(set) var rejectedCount = 0

    init(localPeer: PeerID, parameters: GossipsubParameters = .init(), validator: @escaping @Sendable (GossipMessage) -> GossipValidation = { _ in .accept }) {
        self.localPeer = localPeer
        self.parameters = parameters
        self.validator = validator
    }

    // MARK: Peers and topics

    mutating func addPeer(_ peer: PeerID) -> [Action] {
        guard peerTopics[peer] == nil else { return [] }
        peerTopics[peer] = []
        guard !subscriptions.isEmpty else { return [] }
        var rpc = P2p_Pubsub_RPC()
        rpc.subscriptions = subscriptions.sorted().map { Self.subOpts($0, true) }
        return [.send(peer, rpc)]
    }

    mutating func removePeer(_ peer: PeerID) {
        peerTopics[peer] = nil
        for topic in mesh.keys { mesh[topic]?.remove(peer) }
        rateWindow[peer] = nil
    }

    static func subOpts(_ topic: String, _ subscribe: Bool) -> P2p_Pubsub_RPC.SubOpts {
        var sub = P2p_Pubsub_RPC.SubOpts()
        sub.subscribe = subscribe
        sub.topicid = topic
        return sub
    }

    /// Joins `topic`: announces it to every peer and grafts up to D of those in it.
    mutating func join(_ topic: String, now: Instant) -> [Action] {
        guard subscriptions.insert(topic).inserted else { return [] }
        var actions: [Action] = []
        var chosen = Set(peers(in: topic).filter { !inBackoff($0, topic, now) }.shuffled().prefix(parameters.d))
        mesh[topic] = chosen
        for peer in peerTopics.keys.sorted(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }) {
            var rpc = P2p_Pubsub_RPC()
            rpc.subscriptions = [Self.subOpts(topic, true)]
            if chosen.remove(peer) != nil {
                var graft = P2p_Pubsub_ControlGraft()
                graft.topicID = topic
                rpc.control.graft = [graft]
            }
            actions.append(.send(peer, rpc))
        }
        return actions
    }

    func peers(in topic: String) -> [PeerID] {
        peerTopics.filter { $0.value.contains(topic) }.map(\.key)
    }

    private func inBackoff(_ peer: PeerID, _ topic: String, _ now: Instant) -> Bool {
        guard let until = backoff[topic]?[peer] else { return false }
        return now < until
    }

    // MARK: Publishing

    /// Builds and signs a message (StrictSign: from, seqno, signature; the key is left out, the Ed25519
    /// peer ID carries it), and sends it to the topic's mesh, or to every peer in the topic if the mesh is empty.
    mutating func publish(topic: String, data: [UInt8], identity: IdentityKey, seqno: UInt64, now: Instant) throws -> [Action] {
        var message = P2p_Pubsub_Message()
        message.from = Data(identity.peerID.bytes)
        message.data = Data(data)
        withUnsafeBytes(of: seqno.bigEndian) { message.seqno = Data($0) }
        message.topic = topic
        let unsigned: [UInt8] = try message.serializedBytes()
        message.signature = Data(try identity.sign(Self.signaturePrefix + unsigned))
        let id = identity.peerID.bytes + [UInt8](message.seqno)
        seen[id] = now
        remember(id, message)
        var targets = mesh[topic] ?? []
        if targets.isEmpty { targets = Set(peers(in: topic)) }
        var rpc = P2p_Pubsub_RPC()
        rpc.publish = [message]
        return targets.map { .send($0, rpc) }
    }

    static let signaturePrefix = Array("libp2p-pubsub:".utf8)

    /// Verifies a message's StrictSign signature and returns its sender, or nil when it is unsigned,
    /// wrongly signed, or its key does not match `from`.
    static func verifiedSender(of message: P2p_Pubsub_Message) -> PeerID? {
        guard message.hasFrom, message.hasSeqno, message.hasSignature, let from = try? PeerID(bytes: [UInt8](message.from)) else { return nil }
        let key: Curve25519.Signing.PublicKey
        if message.hasKey, !message.key.isEmpty {
            guard from.matches(encodedPublicKey: [UInt8](message.key)), let decoded = try? LibP2PKey.decodePublicKey([UInt8](message.key)) else { return nil }
            key = decoded
        } else {
            guard let inline = from.ed25519PublicKey else { return nil }
            key = inline
        }
        var unsigned = message
        unsigned.clearSignature()
        unsigned.clearKey()
        guard let bytes: [UInt8] = try? unsigned.serializedBytes() else { return nil }
        return key.isValidSignature(message.signature, for: signaturePrefix + bytes) ? from : nil
    }

    // MARK: Inbound RPCs

    /// Handles one RPC from `peer`. Returns nil when the peer is over its rate limit (the RPC is dropped).
    mutating func handle(_ rpc: P2p_Pubsub_RPC, from peer: PeerID, now: Instant) -> [Action]? {
        if peerTopics[peer] == nil { peerTopics[peer] = [] }
        var window = rateWindow[peer] ?? (now, 0)
        if now - window.start >= .seconds(1) { window = (now, 0) }
        window.count += 1
        rateWindow[peer] = window
        guard window.count <= parameters.maxRPCsPerPeerPerSecond else { return nil }

        var actions: [Action] = []
        for sub in rpc.subscriptions where sub.hasTopicid {
            if sub.subscribe {
                peerTopics[peer, default: []].insert(sub.topicid)
            } else {
                peerTopics[peer]?.remove(sub.topicid)
                mesh[sub.topicid]?.remove(peer)
            }
        }
        for message in rpc.publish {
            actions += handleMessage(message, from: peer, now: now)
        }
        if rpc.hasControl {
            actions += handleControl(rpc.control, from: peer, now: now)
        }
        return actions
    }

    private mutating func handleMessage(_ message: P2p_Pubsub_Message, from peer: PeerID, now: Instant) -> [Action] {
        guard message.hasSeqno, message.hasFrom else { rejectedCount += 1; return [] }
        let id = [UInt8](message.from) + [UInt8](message.seqno)
        guard seen[id] == nil else { return [] }
        seen[id] = now
        guard let sender = Self.verifiedSender(of: message) else { rejectedCount += 1; return [] }
        let gossip = GossipMessage(from: sender, seqno: [UInt8](message.seqno), topic: message.topic, data: [UInt8](message.data))
        switch validator(gossip) {
        case .reject: rejectedCount += 1; return []
        case .ignore: return []
        case .accept: break
        }
        remember(id, message)
        var actions: [Action] = []
        if subscriptions.contains(message.topic) { actions.append(.deliver(gossip)) }
        var rpc = P2p_Pubsub_RPC()
        rpc.publish = [message]
        let targets = (mesh[message.topic] ?? Set(peers(in: message.topic))).subtracting([peer, sender])
        for target in targets.sorted(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }) { actions.append(.send(target, rpc)) }
        return actions
    }

    private mutating func remember(_ id: [UInt8], _ message: P2p_Pubsub_Message) {
        guard cache[id] == nil else { return }
        cache[id] = message
        cacheWindows[0].append(id)
    }

    private mutating func handleControl(_ control: P2p_Pubsub_ControlMessage, from peer: PeerID, now: Instant) -> [Action] {
        var reply = P2p_Pubsub_RPC()
        var wanted: [Data] = []
        for ihave in control.ihave where subscriptions.contains(ihave.topicID) {
            for id in ihave.messageIds.prefix(parameters.maxIHaveIDs) where seen[[UInt8](id)] == nil { wanted.append(id) }
        }
        if !wanted.isEmpty {
            var iwant = P2p_Pubsub_ControlIWant()
            iwant.messageIds = wanted
            reply.control.iwant = [iwant]
        }
        for iwant in control.iwant {
            for id in iwant.messageIds.prefix(parameters.maxIHaveIDs) {
                if let message = cache[[UInt8](id)] { reply.publish.append(message) }
            }
        }
        for graft in control.graft {
            let topic = graft.topicID
            if subscriptions.contains(topic), !inBackoff(peer, topic, now), (mesh[topic]?.count ?? 0) < parameters.dHigh {
                mesh[topic, default: []].insert(peer)
            } else {
                reply.control.prune.append(prune(topic, for: peer, now: now))
            }
        }
        for prune in control.prune {
            mesh[prune.topicID]?.remove(peer)
            let seconds = prune.hasBackoff ? Int64(min(prune.backoff, 3600)) : Int64(parameters.pruneBackoff.components.seconds)
            backoff[prune.topicID, default: [:]][peer] = now + .seconds(seconds)
        }
        let empty = reply.publish.isEmpty && reply.control.iwant.isEmpty && reply.control.prune.isEmpty
        return empty ? [] : [.send(peer, reply)]
    }

    private mutating func prune(_ topic: String, for peer: PeerID, now: Instant) -> P2p_Pubsub_ControlPrune {
        backoff[topic, default: [:]][peer] = now + parameters.pruneBackoff
        var prune = P2p_Pubsub_ControlPrune()
        prune.topicID = topic
        prune.backoff = UInt64(parameters.pruneBackoff.components.seconds)
        return prune
    }

    // MARK: Heartbeat

    /// Mesh maintenance (graft below D_lo, prune above D_hi), IHAVE gossip, and cache and backoff expiry.
    mutating func heartbeat(now: Instant) -> [Action] {
        var control: [PeerID: P2p_Pubsub_ControlMessage] = [:]
        for topic in subscriptions.sorted() {
            var members = mesh[topic] ?? []
            members.formIntersection(peers(in: topic))
            if members.count < parameters.dLow {
                let candidates = peers(in: topic).filter { !members.contains($0) && !inBackoff($0, topic, now) }.shuffled()
                for peer in candidates.prefix(parameters.d - members.count) {
                    members.insert(peer)
                    var graft = P2p_Pubsub_ControlGraft()
                    graft.topicID = topic
                    control[peer, default: .init()].graft.append(graft)
                }
            } else if members.count > parameters.dHigh {
                for peer in members.shuffled().prefix(members.count - parameters.d) {
                    members.remove(peer)
                    control[peer, default: .init()].prune.append(prune(topic, for: peer, now: now))
                }
            }
            mesh[topic] = members
            // IHAVE for recent messages of this topic to peers outside the mesh.
            let recent = cacheWindows.prefix(parameters.historyGossip).flatMap { $0 }.filter { cache[$0]?.topic == topic }
            if !recent.isEmpty {
                for peer in peers(in: topic).filter({ !members.contains($0) }).shuffled().prefix(parameters.dLazy) {
                    var ihave = P2p_Pubsub_ControlIHave()
                    ihave.topicID = topic
                    ihave.messageIds = recent.map { Data($0) }
                    control[peer, default: .init()].ihave.append(ihave)
                }
            }
        }
        // Shift the message cache.
        cacheWindows.insert([], at: 0)
        if cacheWindows.count > parameters.historyLength {
            for id in cacheWindows.removeLast() { cache[id] = nil }
        }
        seen = seen.filter { now - $0.value < parameters.seenTTL }
        for topic in backoff.keys { backoff[topic] = backoff[topic]?.filter { now < $0.value } }
        return control.sorted { $0.key.bytes.lexicographicallyPrecedes($1.key.bytes) }.map { peer, control in
            var rpc = P2p_Pubsub_RPC()
            rpc.control = control
            return .send(peer, rpc)
        }
    }
}
