import NIOConcurrencyHelpers
import NIOCore

/// An ordered, reliable byte stream: a TCP connection, its Noise-secured form, or one yamux stream.
/// One task reads at a time; writes are ordered as they are called.
public protocol ByteStream: Sendable {
    /// The next bytes, or nil at the end of the stream.
    func readChunk() async throws -> ByteBuffer?
    /// Puts bytes back in front of the stream, so that the next read returns them first.
    func unread(_ bytes: ByteBuffer)
    /// Writes all of `bytes`.
    func write(_ bytes: ByteBuffer) async throws
    /// Ends our side of the stream (half-close); reading goes on.
    func closeWrite() async throws
    /// Aborts the stream in both directions.
    func reset() async
}

/// Why a stream operation failed.
public enum P2PStreamError: Error, Equatable, CustomStringConvertible {
    case endOfStream(String)
    case reset
    case closed
    case timedOut(String)

    public var description: String {
        switch self {
        case .endOfStream(let what): "the peer closed the stream before \(what)"
        case .reset: "the stream was reset"
        case .closed: "the connection is closed"
        case .timedOut(let what): "timed out waiting for \(what)"
        }
    }
}

extension ByteStream {
    /// Exactly `count` bytes.
    public func readExactly(_ count: Int, _ what: String = "the expected bytes") async throws -> ByteBuffer {
        var out: ByteBuffer?
        while (out?.readableBytes ?? 0) < count {
            guard var chunk = try await readChunk() else { throw P2PStreamError.endOfStream(what) }
            let need = count - (out?.readableBytes ?? 0)
            if chunk.readableBytes > need {
                let part = chunk.readSlice(length: need)!
                unread(chunk)
                chunk = part
            }
            if out == nil { out = chunk } else { out!.writeBuffer(&chunk) }
        }
        return out ?? ByteBuffer()
    }

    /// One unsigned varint.
    public func readUVarint(_ what: String = "a varint") async throws -> UInt64 {
        var bytes: [UInt8] = []
        while true {
            var one = try await readExactly(1, what)
            bytes.append(one.readInteger(as: UInt8.self)!)
            if let (value, _) = try UVarint.decode(bytes) { return value }
        }
    }

    /// A varint-length-prefixed message of at most `limit` bytes; the length is checked before anything is read.
    public func readLengthPrefixed(limit: Int, _ what: String = "a message") async throws -> ByteBuffer {
        let length = try await readUVarint(what)
        guard length <= UInt64(limit) else {
            throw P2PDecodingError.tooLong(what: what, length: Int(min(length, UInt64(Int.max))), limit: limit)
        }
        return try await readExactly(Int(length), what)
    }

    /// Writes `varint(length) ‖ message`.
    public func writeLengthPrefixed(_ message: some Collection<UInt8>) async throws {
        var buffer = ByteBuffer()
        UVarint.write(UInt64(message.count), to: &buffer)
        buffer.writeBytes(message)
        try await write(buffer)
    }

    /// Everything until the peer closes, refusing more than `limit` bytes.
    public func readToEnd(limit: Int, _ what: String = "the message") async throws -> ByteBuffer {
        var out = ByteBuffer()
        while var chunk = try await readChunk() {
            guard out.readableBytes + chunk.readableBytes <= limit else {
                throw P2PDecodingError.tooLong(what: what, length: out.readableBytes + chunk.readableBytes, limit: limit)
            }
            out.writeBuffer(&chunk)
        }
        return out
    }
}

/// A queue of received chunks with one waiting reader: the inbox of a TCP connection or a yamux stream.
final class ChunkQueue: Sendable {
    private struct State {
        var chunks: [ByteBuffer] = []
        var head = 0
        var finished = false
        var failure: (any Error)?
        var waiter: CheckedContinuation<ByteBuffer?, any Error>?
        var bufferedBytes = 0
    }
    private let state = NIOLockedValueBox(State())
    /// Called (outside the lock) when a reader waits on an empty queue; TCP uses it to ask for the next read.
    private let onDemand: (@Sendable () -> Void)?

    init(onDemand: (@Sendable () -> Void)? = nil) { self.onDemand = onDemand }

    var bufferedBytes: Int { state.withLockedValue { $0.bufferedBytes } }

    func push(_ chunk: ByteBuffer) {
        guard chunk.readableBytes > 0 else { return }
        let waiter: CheckedContinuation<ByteBuffer?, any Error>? = state.withLockedValue { s in
            if s.finished { return nil }
            if let w = s.waiter { s.waiter = nil; return w }
            s.chunks.append(chunk)
            s.bufferedBytes += chunk.readableBytes
            return nil
        }
        waiter?.resume(returning: chunk)
    }

    func pushFront(_ chunk: ByteBuffer) {
        guard chunk.readableBytes > 0 else { return }
        state.withLockedValue { s in
            if s.head > 0 { s.head -= 1; s.chunks[s.head] = chunk } else { s.chunks.insert(chunk, at: 0) }
            s.bufferedBytes += chunk.readableBytes
        }
    }

    /// Ends the queue: readers get the buffered chunks, then nil (or `error`).
    func finish(_ error: (any Error)? = nil) {
        let waiter: CheckedContinuation<ByteBuffer?, any Error>? = state.withLockedValue { s in
            guard !s.finished else { return nil }
            s.finished = true
            s.failure = error
            if error != nil { s.chunks.removeAll(); s.head = 0; s.bufferedBytes = 0 }
            defer { s.waiter = nil }
            return s.waiter
        }
        if let waiter {
            if let error { waiter.resume(throwing: error) } else { waiter.resume(returning: nil) }
        }
    }

    var isFinished: Bool { state.withLockedValue { $0.finished } }

    /// Whether a reader is waiting for data.
    var hasWaiter: Bool { state.withLockedValue { $0.waiter != nil } }

    func next() async throws -> ByteBuffer? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ByteBuffer?, any Error>) in
                enum Outcome { case chunk(ByteBuffer), end, failure(any Error), wait }
                let outcome: Outcome = state.withLockedValue { s in
                    if s.head < s.chunks.count {
                        let chunk = s.chunks[s.head]
                        s.head += 1
                        s.bufferedBytes -= chunk.readableBytes
                        if s.head == s.chunks.count { s.chunks.removeAll(keepingCapacity: true); s.head = 0 }
                        return .chunk(chunk)
                    }
                    if s.finished { return s.failure.map { .failure($0) } ?? .end }
                    if s.waiter != nil { return .failure(P2PStreamError.closed) }
                    s.waiter = continuation
                    return .wait
                }
                switch outcome {
                case .chunk(let c): continuation.resume(returning: c)
                case .end: continuation.resume(returning: nil)
                case .failure(let e): continuation.resume(throwing: e)
                case .wait: onDemand?()
                }
            }
        } onCancel: {
            finish(CancellationError())
        }
    }
}

/// The pipeline handler that feeds a TCP channel's bytes into a `ChunkQueue` (the channel runs with
/// autoRead off, so the queue's reader decides when the next socket read happens).
final class TCPInboundHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let queue: ChunkQueue

    init(queue: ChunkQueue) { self.queue = queue }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        queue.push(unwrapInboundIn(data))
    }

    func channelActive(context: ChannelHandlerContext) {
        // A read asked for before the channel was active was dropped by NIO; ask again.
        if queue.hasWaiter { context.read() }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        queue.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        queue.finish(error)
        context.close(promise: nil)
    }
}

/// A TCP connection as a `ByteStream`.
final class TCPStream: ByteStream {
    let channel: any Channel
    let queue: ChunkQueue

    init(channel: any Channel, queue: ChunkQueue) {
        self.channel = channel
        self.queue = queue
    }

    /// Creates the queue and handler for a new channel; the queue asks the channel for a read when it runs dry.
    static func makeHandler(for channel: any Channel) -> (TCPInboundHandler, ChunkQueue) {
        let queue = ChunkQueue(onDemand: { [channel] in channel.read() })
        return (TCPInboundHandler(queue: queue), queue)
    }

    func readChunk() async throws -> ByteBuffer? { try await queue.next() }
    func unread(_ bytes: ByteBuffer) { queue.pushFront(bytes) }
    func write(_ bytes: ByteBuffer) async throws { try await enqueue(bytes).get() }
    /// Submits a write now (so that writes keep the order of these calls) and returns its completion.
    func enqueue(_ bytes: ByteBuffer) -> EventLoopFuture<Void> { channel.writeAndFlush(bytes) }
    func closeWrite() async throws { try await channel.close(mode: .output).get() }
    func reset() async { try? await channel.close().get() }
}
