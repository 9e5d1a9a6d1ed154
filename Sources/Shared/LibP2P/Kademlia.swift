import Crypto
import Foundation

/// A peer as Kademlia reports it: its ID and the addresses it is known by.
public struct KademliaPeer: Sendable, Equatable {
    public var id: PeerID
    public var addresses: [Multiaddr]
}

/// A Kademlia DHT client (`/ipfs/kad/1.0.0`, libp2p/specs kad-dht): one request and one reply per stream, each
/// `varint(length) ‖ Message`, replies bounded in size. FIND_NODE walks, ADD_PROVIDER and GET_PROVIDERS.
public struct KademliaClient: Sendable {
    public static let protocolID = "/ipfs/kad/1.0.0"
    static let maxMessageSize = 64 * 1024
    public let host: P2PHost
    /// Peers queried at once in a walk (α) and peers kept (k).
    public var alpha = 3, k = 20

    public init(host: P2PHost) { self.host = host }

    func request(_ message: P2p_Kad_Message, on connection: P2PConnection, expectReply: Bool = true) async throws -> P2p_Kad_Message? {
        let stream = try await connection.openStream(Self.protocolID)
        defer { Task { await stream.reset() } }
        try await stream.writeMessage(try message.serializedBytes())
        guard expectReply else { try await stream.closeWrite(); return nil }
        let reply = try await stream.readMessage(limit: Self.maxMessageSize)
        do { return try P2p_Kad_Message(serializedBytes: reply) } catch {
            throw P2PDecodingError.invalid("Kademlia reply is not a Message protobuf")
        }
    }

    static func peers(_ list: [P2p_Kad_Message.Peer]) -> [KademliaPeer] {
        list.prefix(100).compactMap { peer in
            guard let id = try? PeerID(bytes: [UInt8](peer.id)) else { return nil }
            return KademliaPeer(id: id, addresses: peer.addrs.prefix(32).compactMap { try? Multiaddr(bytes: [UInt8]($0)) })
        }
    }

    /// FIND_NODE `key` at one peer: the closer peers it knows.
    public func findNode(_ key: [UInt8], on connection: P2PConnection) async throws -> [KademliaPeer] {
        var message = P2p_Kad_Message()
        message.type = .findNode
        message.key = Data(key)
        return Self.peers(try await request(message, on: connection)?.closerPeers ?? [])
    }

    /// GET_PROVIDERS for `cid` at one peer: providers it has records for, and closer peers.
    public func getProviders(_ cid: CID, on connection: P2PConnection) async throws -> (providers: [KademliaPeer], closer: [KademliaPeer]) {
        var message = P2p_Kad_Message()
        message.type = .getProviders
        message.key = Data(cid.multihash)
        let reply = try await request(message, on: connection)
        return (Self.peers(reply?.providerPeers ?? []), Self.peers(reply?.closerPeers ?? []))
    }

    /// ADD_PROVIDER: tells one peer that this host provides `cid` at `addresses` (no reply is expected).
    public func addProvider(_ cid: CID, addresses: [Multiaddr], on connection: P2PConnection) async throws {
        var message = P2p_Kad_Message()
        message.type = .addProvider
        message.key = Data(cid.multihash)
        var me = P2p_Kad_Message.Peer()
        me.id = Data(host.peerID.bytes)
        me.addrs = addresses.map { Data($0.bytes) }
        message.providerPeers = [me]
        _ = try await request(message, on: connection, expectReply: false)
    }

    /// XOR distance in the Kademlia keyspace (sha256 of the key bytes).
    static func distance(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        zip(SHA256.hash(data: a), SHA256.hash(data: b)).map { $0 ^ $1 }
    }

    /// An iterative FIND_NODE walk from `start`: queries the α closest unqueried peers each round until the
    /// k closest have all been queried (or `maxRounds` passed). Returns the k closest peers found.
    public func walk(toward key: [UInt8], from start: [P2PConnection], maxRounds: Int = 10) async -> [KademliaPeer] {
        var known: [PeerID: KademliaPeer] = [:]
        var queried: Set<PeerID> = []
        var connections: [PeerID: P2PConnection] = [:]
        for connection in start {
            connections[connection.remotePeer] = connection
            known[connection.remotePeer] = KademliaPeer(id: connection.remotePeer, addresses: connection.remoteAddress.map { [$0.withoutPeerID] } ?? [])
        }
        func closest() -> [KademliaPeer] {
            known.values.filter { $0.id != host.peerID }.sorted {
                Self.distance($0.id.bytes, key).lexicographicallyPrecedes(Self.distance($1.id.bytes, key))
            }.prefix(k).map { $0 }
        }
        for _ in 0..<maxRounds {
            let batch = closest().filter { !queried.contains($0.id) }.prefix(alpha)
            if batch.isEmpty { break }
            for peer in batch {
                queried.insert(peer.id)
                let connection: P2PConnection
                if let existing = connections[peer.id], existing.isActive {
                    connection = existing
                } else {
                    guard let address = peer.addresses.first(where: { $0.tcpTarget != nil }),
                          let dialed = try? await host.dial(Multiaddr(address.withoutPeerID.components + [.p2p(peer.id)])) else { continue }
                    connection = dialed
                    connections[peer.id] = dialed
                }
                for found in (try? await findNode(key, on: connection)) ?? [] where known[found.id] == nil {
                    known[found.id] = found
                }
            }
        }
        return closest()
    }
}
