import NIOConcurrencyHelpers
import NIOCore

/// A yamux session (`/yamux/1.0.0`, hashicorp/yamux spec.md) over a secured connection: streams with
/// credit-based flow control (256 KiB initial window), SYN/ACK/FIN/RST, ping and go-away.
public final class YamuxSession: Sendable {
    static let protocolID = "/yamux/1.0.0"
    static let initialWindow: UInt32 = 256 * 1024
    /// Largest data frame we send; smaller frames keep streams fair to each other.
    static let maxDataFrame = 64 * 1024

    let connection: any ByteStream
    let isClient: Bool
    let maxStreams: Int
    private let onInboundStream: @Sendable (YamuxStream) -> Void

    private struct State {
        var streams: [UInt32: YamuxStream] = [:]
        var nextStreamID: UInt32
        var closed = false
        var goAwayReceived = false
        var pings: [UInt32: CheckedContinuation<Void, any Error>] = [:]
        var nextPing: UInt32 = 1
    }
    private let state: NIOLockedValueBox<State>

    init(connection: any ByteStream, isClient: Bool, maxStreams: Int = 256, onInboundStream: @escaping @Sendable (YamuxStream) -> Void) {
        self.connection = connection
        self.isClient = isClient
        self.maxStreams = maxStreams
        self.onInboundStream = onInboundStream
        state = NIOLockedValueBox(State(nextStreamID: isClient ? 1 : 2))
    }

    /// The number of open streams.
    public var streamCount: Int { state.withLockedValue { $0.streams.count } }

    /// Each open stream's flow-control state, for diagnostics.
    public var streamStates: [String] { state.withLockedValue { Array($0.streams.values) }.map(\.stateDescription) }

    func send(_ header: YamuxHeader, _ payload: ByteBuffer? = nil) async throws {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(YamuxHeader.length + (payload?.readableBytes ?? 0))
        header.write(to: &buffer)
        if var payload { buffer.writeBuffer(&payload) }
        try await connection.write(buffer)
    }

    /// Opens a stream (SYN carried on a window update, as go-yamux does).
    public func openStream() async throws -> YamuxStream {
        let stream: YamuxStream = try state.withLockedValue { s in
            guard !s.closed, !s.goAwayReceived else { throw P2PStreamError.closed }
            guard s.streams.count < maxStreams else { throw YamuxError.tooManyStreams(maxStreams) }
            let id = s.nextStreamID
            guard id < UInt32.max - 2 else { throw YamuxError.streamIDsExhausted }
            s.nextStreamID += 2
            let stream = YamuxStream(id: id, session: self)
            s.streams[id] = stream
            return stream
        }
        try await send(YamuxHeader(type: .windowUpdate, flags: .syn, streamID: stream.id, length: 0))
        return stream
    }

    func remove(_ id: UInt32) {
        _ = state.withLockedValue { $0.streams.removeValue(forKey: id) }
    }

    /// Sends a ping and waits for its answer.
    public func ping() async throws -> Duration {
        let start = ContinuousClock.now
        let value: UInt32 = state.withLockedValue { s in defer { s.nextPing &+= 1 }; return s.nextPing }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let closed = state.withLockedValue { s in
                if s.closed { return true }
                s.pings[value] = continuation
                return false
            }
            if closed { continuation.resume(throwing: P2PStreamError.closed); return }
            Task { try? await self.send(YamuxHeader(type: .ping, flags: .syn, streamID: 0, length: value)) }
        }
        return ContinuousClock.now - start
    }

    /// Reads frames until the connection ends; throws on a protocol violation (after sending go-away).
    func run() async throws {
        do {
            while true {
                guard let first = try await connection.readChunk() else { break }
                connection.unread(first)
                let headerBytes = try await connection.readExactly(YamuxHeader.length, "a yamux header")
                let header = try YamuxHeader(bytes: headerBytes.readableBytesView)
                switch header.type {
                case .data:
                    guard header.length <= Self.initialWindow else {
                        throw P2PDecodingError.tooLong(what: "yamux data frame", length: Int(header.length), limit: Int(Self.initialWindow))
                    }
                    let payload = header.length > 0 ? try await connection.readExactly(Int(header.length), "a yamux data frame") : ByteBuffer()
                    try await handleStreamFrame(header, payload: payload)
                case .windowUpdate:
                    try await handleStreamFrame(header, payload: nil)
                case .ping:
                    guard header.streamID == 0 else { throw P2PDecodingError.invalid("yamux ping on stream \(header.streamID)") }
                    if header.flags.contains(.syn) {
                        try await send(YamuxHeader(type: .ping, flags: .ack, streamID: 0, length: header.length))
                    } else if header.flags.contains(.ack) {
                        let waiter = state.withLockedValue { $0.pings.removeValue(forKey: header.length) }
                        waiter?.resume()
                    }
                case .goAway:
                    state.withLockedValue { $0.goAwayReceived = true }
                    shutDown(P2PStreamError.closed)
                    return
                }
            }
            shutDown(P2PStreamError.closed)
        } catch let error as P2PDecodingError {
            try? await send(YamuxHeader(type: .goAway, streamID: 0, length: YamuxGoAway.protocolError.rawValue))
            shutDown(P2PStreamError.closed)
            throw error
        } catch {
            shutDown(P2PStreamError.closed)
            throw error
        }
    }

    private func handleStreamFrame(_ header: YamuxHeader, payload: ByteBuffer?) async throws {
        let id = header.streamID
        guard id != 0 else { throw P2PDecodingError.invalid("yamux stream frame on stream 0") }
        var created: YamuxStream?
        var refuse = false
        let stream: YamuxStream? = try state.withLockedValue { s in
            if header.flags.contains(.syn) {
                guard (id % 2 == 1) != isClient else { throw P2PDecodingError.invalid("yamux peer opened stream \(id) with our parity") }
                guard s.streams[id] == nil else { throw P2PDecodingError.invalid("yamux peer reopened stream \(id)") }
                guard s.streams.count < maxStreams, !s.closed else { refuse = true; return nil }
                let stream = YamuxStream(id: id, session: self)
                s.streams[id] = stream
                created = stream
                return stream
            }
            return s.streams[id]
        }
        if refuse {
            try await send(YamuxHeader(type: .windowUpdate, flags: .rst, streamID: id, length: 0))
            return
        }
        // Frames for a stream that is already gone (closed or reset locally) are dropped, as go-yamux does.
        guard let stream else { return }
        if let created {
            try await send(YamuxHeader(type: .windowUpdate, flags: .ack, streamID: id, length: 0))
            onInboundStream(created)
        }
        if header.type == .windowUpdate {
            try stream.addSendWindow(header.length)
        } else if let payload {
            try stream.receive(payload)
        }
        if header.flags.contains(.rst) { stream.remoteReset() } else if header.flags.contains(.fin) { stream.remoteClose() }
    }

    /// Ends every stream and fails pending pings.
    func shutDown(_ error: any Error) {
        let (streams, pings) = state.withLockedValue { s in
            s.closed = true
            defer { s.streams.removeAll(); s.pings.removeAll() }
            return (Array(s.streams.values), Array(s.pings.values))
        }
        for stream in streams { stream.connectionClosed(error) }
        for ping in pings { ping.resume(throwing: error) }
    }

    /// Sends go-away and closes the connection.
    public func close() async {
        try? await send(YamuxHeader(type: .goAway, streamID: 0, length: YamuxGoAway.normal.rawValue))
        shutDown(P2PStreamError.closed)
        await connection.reset()
    }
}

/// One yamux stream.
public final class YamuxStream: ByteStream {
    /// The yamux stream ID (odd when the dialer opened it).
    public let id: UInt32
    let session: YamuxSession
    private let inbox = ChunkQueue()

    private struct State {
        var sendWindow = YamuxSession.initialWindow
        /// What the peer may still send before our next window update.
        var receiveWindow = YamuxSession.initialWindow
        /// Bytes the reader took since the last window update (pushed-back bytes are subtracted).
        var consumed = 0
        var localClosed = false
        var remoteClosed = false
        var isReset = false
        var windowWaiter: CheckedContinuation<Int?, any Error>?
    }
    private let state = NIOLockedValueBox(State())

    init(id: UInt32, session: YamuxSession) {
        self.id = id
        self.session = session
    }

    var stateDescription: String {
        let s = state.withLockedValue { $0 }
        return "stream \(id): send window \(s.sendWindow), receive window \(s.receiveWindow), consumed \(s.consumed), buffered \(inbox.bufferedBytes), local closed \(s.localClosed), remote closed \(s.remoteClosed), reset \(s.isReset), waiting for window \(s.windowWaiter != nil)"
    }

    public func readChunk() async throws -> ByteBuffer? {
        guard let chunk = try await inbox.next() else { return nil }
        let delta: UInt32? = state.withLockedValue { s in
            s.consumed += chunk.readableBytes
            guard s.consumed >= Int(YamuxSession.initialWindow / 2), !s.remoteClosed, !s.isReset else { return nil }
            let delta = UInt32(s.consumed)
            s.consumed = 0
            s.receiveWindow += delta
            return delta
        }
        if let delta {
            try await session.send(YamuxHeader(type: .windowUpdate, streamID: id, length: delta))
        }
        return chunk
    }

    public func unread(_ bytes: ByteBuffer) {
        state.withLockedValue { $0.consumed -= bytes.readableBytes }
        inbox.pushFront(bytes)
    }

    func receive(_ payload: ByteBuffer) throws {
        let accepted = try state.withLockedValue { s throws -> Bool in
            guard payload.readableBytes <= Int(s.receiveWindow) else {
                throw P2PDecodingError.tooLong(what: "yamux data beyond the receive window on stream \(id)", length: payload.readableBytes, limit: Int(s.receiveWindow))
            }
            s.receiveWindow -= UInt32(payload.readableBytes)
            return !s.isReset && !s.remoteClosed
        }
        if accepted { inbox.push(payload) }
    }

    func addSendWindow(_ delta: UInt32) throws {
        let waiter = try state.withLockedValue { s throws -> CheckedContinuation<Int?, any Error>? in
            let (sum, overflow) = s.sendWindow.addingReportingOverflow(delta)
            guard !overflow else { throw P2PDecodingError.invalid("yamux window update overflows the send window on stream \(id)") }
            s.sendWindow = sum
            // A zero delta (a bare FIN or ACK) must leave a waiting writer waiting, not drop it.
            guard delta > 0 else { return nil }
            defer { s.windowWaiter = nil }
            return s.windowWaiter
        }
        waiter?.resume(returning: nil)
    }

    func remoteClose() {
        let done = state.withLockedValue { s in s.remoteClosed = true; return s.localClosed }
        inbox.finish()
        if done { session.remove(id) }
    }

    func remoteReset() { abort(P2PStreamError.reset) }

    func connectionClosed(_ error: any Error) { abort(error, removing: false) }

    private func abort(_ error: any Error, removing: Bool = true) {
        let waiter = state.withLockedValue { s in
            s.isReset = true
            defer { s.windowWaiter = nil }
            return s.windowWaiter
        }
        inbox.finish(error)
        waiter?.resume(throwing: error)
        if removing { session.remove(id) }
    }

    public func write(_ bytes: ByteBuffer) async throws {
        var rest = bytes
        while rest.readableBytes > 0 {
            let want = min(rest.readableBytes, YamuxSession.maxDataFrame)
            let granted = try await reserveSendWindow(want)
            let piece = rest.readSlice(length: granted)!
            try await session.send(YamuxHeader(type: .data, streamID: id, length: UInt32(granted)), piece)
        }
    }

    private func reserveSendWindow(_ want: Int) async throws -> Int {
        while true {
            let granted: Int? = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int?, any Error>) in
                enum Outcome { case granted(Int), failed(any Error), wait }
                let outcome: Outcome = state.withLockedValue { s in
                    if s.isReset { return .failed(P2PStreamError.reset) }
                    if s.localClosed { return .failed(P2PStreamError.closed) }
                    if s.sendWindow > 0 {
                        let n = min(want, Int(s.sendWindow))
                        s.sendWindow -= UInt32(n)
                        return .granted(n)
                    }
                    s.windowWaiter = continuation
                    return .wait
                }
                switch outcome {
                case .granted(let n): continuation.resume(returning: n)
                case .failed(let e): continuation.resume(throwing: e)
                case .wait: break
                }
            }
            if let granted { return granted }
        }
    }

    /// Half-closes: sends FIN; the peer's data can still be read.
    public func closeWrite() async throws {
        let (already, done) = state.withLockedValue { s in
            defer { s.localClosed = true }
            return (s.localClosed || s.isReset, s.remoteClosed)
        }
        guard !already else { return }
        if done { session.remove(id) }
        try await session.send(YamuxHeader(type: .windowUpdate, flags: .fin, streamID: id, length: 0))
    }

    /// Resets the stream (RST) in both directions.
    public func reset() async {
        let already = state.withLockedValue { $0.isReset }
        guard !already else { return }
        abort(P2PStreamError.reset)
        try? await session.send(YamuxHeader(type: .windowUpdate, flags: .rst, streamID: id, length: 0))
    }
}

/// Why a yamux operation was refused.
public enum YamuxError: Error, Equatable, CustomStringConvertible {
    case tooManyStreams(Int)
    case streamIDsExhausted

    public var description: String {
        switch self {
        case .tooManyStreams(let n): "yamux: \(n) streams are already open on this connection"
        case .streamIDsExhausted: "yamux: stream IDs exhausted; open a new connection"
        }
    }
}
