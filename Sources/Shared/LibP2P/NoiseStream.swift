import Crypto
import NIOConcurrencyHelpers
import NIOCore

/// A TCP connection after the Noise handshake: each frame is `u16be(length) ‖ ciphertext`, at most 65,535 bytes.
final class NoiseStream: ByteStream {
    static let maxFrameLength = 65_535
    static let maxPlaintextPerFrame = maxFrameLength - NoiseCipherState.tagLength

    let transport: TCPStream
    let remotePeer: PeerID
    private let sendCipher: NIOLockedValueBox<NoiseCipherState>
    private let receiveCipher: NIOLockedValueBox<NoiseCipherState>
    private let pushedBack = ChunkQueue()

    init(transport: TCPStream, remotePeer: PeerID, send: NoiseCipherState, receive: NoiseCipherState) {
        self.transport = transport
        self.remotePeer = remotePeer
        sendCipher = NIOLockedValueBox(send)
        receiveCipher = NIOLockedValueBox(receive)
    }

    func readChunk() async throws -> ByteBuffer? {
        if pushedBack.bufferedBytes > 0 { return try await pushedBack.next() }
        guard let lengthBytes = try await Self.readFrameLength(transport) else { return nil }
        let frame = try await transport.readExactly(lengthBytes, "the rest of a Noise frame")
        let plain = try receiveCipher.withLockedValue { cipher in try cipher.decrypt(Array(frame.readableBytesView), ad: []) }
        return ByteBuffer(bytes: plain)
    }

    /// The next frame's length, or nil at a clean end of stream between frames.
    static func readFrameLength(_ transport: some ByteStream) async throws -> Int? {
        guard let first = try await transport.readChunk() else { return nil }
        transport.unread(first)
        var header = try await transport.readExactly(2, "a Noise frame length")
        return Int(header.readInteger(as: UInt16.self)!)
    }

    func unread(_ bytes: ByteBuffer) { pushedBack.pushFront(bytes) }

    func write(_ bytes: ByteBuffer) async throws {
        var plain = bytes
        let future: EventLoopFuture<Void> = try sendCipher.withLockedValue { cipher in
            var out = ByteBuffer()
            out.reserveCapacity(plain.readableBytes + (plain.readableBytes / Self.maxPlaintextPerFrame + 1) * 18)
            while plain.readableBytes > 0 {
                let piece = plain.readSlice(length: min(plain.readableBytes, Self.maxPlaintextPerFrame))!
                let sealed = try cipher.encrypt(Array(piece.readableBytesView), ad: [])
                out.writeInteger(UInt16(sealed.count))
                out.writeBytes(sealed)
            }
            // Submitted under the lock, so that frames reach the socket in nonce order.
            return transport.enqueue(out)
        }
        try await future.get()
    }

    func closeWrite() async throws { try await transport.closeWrite() }
    func reset() async { await transport.reset() }

    // MARK: Handshake

    /// Runs the XX handshake on `transport` and returns the secured stream. When `expectedPeer` is set (we
    /// dialed a known ID) a remote proving another identity is refused.
    static func handshake(on transport: TCPStream, identity: IdentityKey, initiator: Bool, expectedPeer: PeerID?) async throws -> NoiseStream {
        let staticKey = Curve25519.KeyAgreement.PrivateKey()
        var state = NoiseXXHandshake(initiator: initiator, staticKey: staticKey)
        let payload = try NoisePayload.make(identity: identity, staticKey: staticKey.publicKey)
        let remotePeer: PeerID
        if initiator {
            try await writeFrame(try state.writeMessage1(), to: transport)
            let remotePayload = try state.readMessage2(try await readFrame(transport))
            remotePeer = try NoisePayload.verify(remotePayload, remoteStatic: state.remoteStatic!)
            if let expectedPeer, expectedPeer != remotePeer {
                throw NoiseError.peerIDMismatch(expected: expectedPeer.description, actual: remotePeer.description)
            }
            try await writeFrame(try state.writeMessage3(payload: payload), to: transport)
        } else {
            _ = try state.readMessage1(try await readFrame(transport))
            try await writeFrame(try state.writeMessage2(payload: payload), to: transport)
            let remotePayload = try state.readMessage3(try await readFrame(transport))
            remotePeer = try NoisePayload.verify(remotePayload, remoteStatic: state.remoteStatic!)
        }
        let (send, receive) = state.transportCiphers()
        return NoiseStream(transport: transport, remotePeer: remotePeer, send: send, receive: receive)
    }

    static func writeFrame(_ message: [UInt8], to transport: TCPStream) async throws {
        guard message.count <= maxFrameLength else { throw NoiseError.frameTooLong(message.count) }
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt16(message.count))
        buffer.writeBytes(message)
        try await transport.write(buffer)
    }

    static func readFrame(_ transport: TCPStream) async throws -> [UInt8] {
        var lengthBytes = try await transport.readExactly(2, "a Noise handshake frame")
        let length = Int(lengthBytes.readInteger(as: UInt16.self)!)
        return Array(try await transport.readExactly(length, "a Noise handshake frame").readableBytesView)
    }
}
