import Foundation
import NIOCore

/// What a peer says about itself through identify.
public struct IdentifyInfo: Sendable, Equatable {
    public var peerID: PeerID
    public var agentVersion: String
    public var protocolVersion: String
    public var protocols: [String]
    public var listenAddresses: [Multiaddr]
    public var observedAddress: Multiaddr?
}

/// identify (`/ipfs/id/1.0.0`, libp2p/specs identify/README.md): the responder writes one length-prefixed
/// `Identify` message and closes.
public enum Identify {
    public static let protocolID = "/ipfs/id/1.0.0"
    static let protocolVersion = "ipfs/0.1.0"
    /// identify messages are small; go-libp2p caps them at 2 KiB per message and 8 KiB overall.
    static let maxMessageLength = 64 * 1024

    static func answer(on stream: P2PStream, host: P2PHost) async throws {
        var message = P2p_Identify_Identify()
        message.protocolVersion = protocolVersion
        message.agentVersion = host.options.agentVersion
        message.publicKey = Data(host.identity.encodedPublicKey)
        message.listenAddrs = host.advertisedAddresses.map { Data($0.bytes) }
        if let observed = stream.connection.remoteAddress?.withoutPeerID { message.observedAddr = Data(observed.bytes) }
        message.protocols = host.protocols
        try await stream.writeMessage(try message.serializedBytes())
        try await stream.closeWrite()
    }

    /// Asks the peer on `connection` to identify itself. The public key it sends must match its peer ID.
    public static func ask(_ connection: P2PConnection) async throws -> IdentifyInfo {
        let stream = try await connection.openStream(protocolID)
        defer { Task { await stream.reset() } }
        try await stream.closeWrite()
        let body = try await stream.stream.readToEnd(limit: maxMessageLength, "an identify message")
        return try decode(Array(body.readableBytesView), from: connection.remotePeer)
    }

    /// Decodes one or more length-prefixed `Identify` messages (later ones update earlier ones, as go-libp2p
    /// merges them); a body that is a bare protobuf (older implementations) is accepted too.
    static func decode(_ bytes: [UInt8], from peer: PeerID) throws -> IdentifyInfo {
        var messages: [P2p_Identify_Identify] = []
        var cursor = ByteCursor(bytes)
        var delimited = true
        while !cursor.isAtEnd {
            guard let length = try? cursor.readVarint("identify length"), length <= UInt64(bytes.count - cursor.offset),
                  let body = try? cursor.readBytes(Int(length), "identify message"),
                  let message = try? P2p_Identify_Identify(serializedBytes: body) else { delimited = false; break }
            messages.append(message)
        }
        if !delimited || messages.isEmpty {
            do { messages = [try P2p_Identify_Identify(serializedBytes: bytes)] } catch {
                throw P2PDecodingError.invalid("identify reply is not an Identify protobuf")
            }
        }
        var merged = P2p_Identify_Identify()
        for message in messages {
            let encoded: [UInt8] = try message.serializedBytes()
            try merged.merge(serializedBytes: encoded)
        }
        if merged.hasPublicKey {
            guard peer.matches(encodedPublicKey: [UInt8](merged.publicKey)) else {
                throw P2PDecodingError.invalid("identify public key does not match the peer ID \(peer)")
            }
        }
        return IdentifyInfo(
            peerID: peer,
            agentVersion: merged.agentVersion,
            protocolVersion: merged.protocolVersion,
            protocols: merged.protocols,
            listenAddresses: merged.listenAddrs.compactMap { try? Multiaddr(bytes: [UInt8]($0)) },
            observedAddress: merged.hasObservedAddr ? try? Multiaddr(bytes: [UInt8](merged.observedAddr)) : nil
        )
    }
}

/// ping (`/ipfs/ping/1.0.0`): 32 random bytes, echoed back.
public enum Ping {
    public static let protocolID = "/ipfs/ping/1.0.0"
    static let size = 32

    static func answer(on stream: P2PStream) async throws {
        while true {
            guard let first = try await stream.stream.readChunk() else { return }
            stream.stream.unread(first)
            let payload = try await stream.stream.readExactly(size, "a ping payload")
            try await stream.write(payload)
        }
    }

    /// Sends `count` pings on one stream and returns each round-trip time.
    public static func ping(_ connection: P2PConnection, count: Int = 1) async throws -> [Duration] {
        let stream = try await connection.openStream(protocolID)
        defer { Task { await stream.reset() } }
        var times: [Duration] = []
        for _ in 0..<count {
            let payload = (0..<size).map { _ in UInt8.random(in: 0...255) }
            let start = ContinuousClock.now
            try await stream.write(payload)
            let echo = try await stream.stream.readExactly(size, "the ping echo")
            guard Array(echo.readableBytesView) == payload else { throw PingError.wrongEcho }
            times.append(ContinuousClock.now - start)
        }
        try? await stream.closeWrite()
        return times
    }
}

/// Why a ping failed.
public enum PingError: Error, Equatable, CustomStringConvertible {
    case wrongEcho
    public var description: String { "ping: the peer echoed different bytes" }
}
