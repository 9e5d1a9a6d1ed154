import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import NIOWebSocket
import Synchronization
import WebSocketKit
import WorkerRuntime
import Wire
import SubstrateRuntime
import SubstratePrimitives

/// Limits on one node connection, so that a misbehaving node only ever hurts its own watcher.
struct ConnectionLimits: Sendable {
    /// A text message longer than this is dropped and counted (`oversized_frame`).
    var maxMessageBytes = 16 << 20
    /// How long a request may wait for its answer.
    var requestTimeout: Duration = .seconds(10)
    /// Requests waiting for an answer at once; more are refused at once (`too_many_outstanding`).
    var maxOutstandingRequests = 512
    /// How long opening the WebSocket may take.
    var connectTimeout: Duration = .seconds(10)
}

/// A subscription notification from the node.
enum NodeNotification: Sendable {
    case header(SubscriptionKind, JSONValue)
    case runtimeVersion(JSONValue)
}

/// What a subscription is for: a header subscription or the runtime version.
enum SubscriptionTopic: Sendable, Equatable {
    case heads(SubscriptionKind)
    case runtimeVersion
}

/// One WebSocket JSON-RPC 2.0 connection to a node (ws:// or wss://, via websocket-kit on SwiftNIO).
///
/// Requests are matched to answers by id, each with a timeout; subscription notifications are
/// delivered in order on `notifications`, which finishes when the connection closes. Malformed JSON,
/// unknown notifications, unmatched answers and oversized messages are counted and dropped.
final class RPCConnection: Sendable {
    private struct State {
        var nextID: Int64 = 1
        var pending: [Int64: (method: String, topic: SubscriptionTopic?, continuation: CheckedContinuation<Result<JSONValue, WatcherError>, Never>)] = [:]
        var subscriptions: [String: SubscriptionTopic] = [:]
        var closed = false
    }

    let url: String
    let limits: ConnectionLimits
    let notifications: AsyncStream<NodeNotification>
    private let continuation: AsyncStream<NodeNotification>.Continuation
    private let socket: WebSocket
    private let state = Mutex(State())
    private let metrics: WatcherMetrics
    private let logger: Logger

    private init(url: String, socket: WebSocket, limits: ConnectionLimits, metrics: WatcherMetrics, logger: Logger) {
        self.url = url
        self.socket = socket
        self.limits = limits
        self.metrics = metrics
        self.logger = logger
        (notifications, continuation) = AsyncStream.makeStream(of: NodeNotification.self, bufferingPolicy: .bufferingNewest(4096))
    }

    /// Opens the connection. `trustRootsFile` (PEM) replaces the system trust store for wss://.
    static func connect(url: String, limits: ConnectionLimits, trustRootsFile: String?, group: any EventLoopGroup,
                        metrics: WatcherMetrics, logger: Logger) async throws(WatcherError) -> RPCConnection {
        var configuration = WebSocketClient.Configuration(maxFrameSize: limits.maxMessageBytes * 2)
        configuration.maxAccumulatedFrameSize = limits.maxMessageBytes * 2
        configuration.maxAccumulatedFrameCount = 4096
        if url.hasPrefix("wss://") {
            var tls = TLSConfiguration.makeClientConfiguration()
            if let trustRootsFile { tls.trustRoots = .file(trustRootsFile) }
            configuration.tlsConfiguration = tls
        }
        // Completed once: by the upgrade, a connect failure, or the timeout.
        let once = Mutex<CheckedContinuation<Result<RPCConnection, WatcherError>, Never>?>(nil)
        @Sendable func finish(_ result: Result<RPCConnection, WatcherError>) {
            guard let continuation = once.withLock({ value -> CheckedContinuation<Result<RPCConnection, WatcherError>, Never>? in
                defer { value = nil }
                return value
            }) else {
                if case .success(let late) = result { late.close() }
                return
            }
            continuation.resume(returning: result)
        }
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<RPCConnection, WatcherError>, Never>) in
            once.withLock { $0 = continuation }
            let future = WebSocket.connect(to: url, configuration: configuration, on: group) { socket in
                let connection = RPCConnection(url: url, socket: socket, limits: limits, metrics: metrics, logger: logger)
                socket.onText { _, text in connection.received(text) }
                socket.onClose.whenComplete { _ in connection.closed() }
                finish(.success(connection))
            }
            future.whenFailure { error in finish(.failure(.connectFailed(url: url, detail: "\(error)"))) }
            let timeout = limits.connectTimeout
            group.any().scheduleTask(in: .seconds(timeout.components.seconds) + .nanoseconds(timeout.components.attoseconds / 1_000_000_000)) {
                finish(.failure(.connectFailed(url: url, detail: "no WebSocket upgrade within \(timeout)")))
            }
        }
        let connection = try result.get()
        return connection
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    func close() {
        _ = socket.close(code: .normalClosure)
    }

    /// Sends a request and waits for its result. `topic` registers the returned subscription id before
    /// any notification for it can be read.
    func call(_ method: String, _ params: [JSONValue] = [], subscribing topic: SubscriptionTopic? = nil) async throws(WatcherError) -> JSONValue {
        let started = ContinuousClock.now
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<JSONValue, WatcherError>, Never>) in
            let outcome: Result<Int64, WatcherError> = state.withLock { state in
                if state.closed { return .failure(.disconnected) }
                if state.pending.count >= limits.maxOutstandingRequests { return .failure(.tooManyOutstanding(limit: limits.maxOutstandingRequests)) }
                let id = state.nextID
                state.nextID += 1
                state.pending[id] = (method, topic, continuation)
                return .success(id)
            }
            switch outcome {
            case .failure(let error):
                continuation.resume(returning: .failure(error))
            case .success(let id):
                let text = JSONValue.object([("jsonrpc", .string("2.0")), ("id", .integer(id)), ("method", .string(method)),
                                             ("params", .array(params))]).rendered()
                socket.send(text)
                let timeout = limits.requestTimeout
                socket.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)) { [self] in
                    self.fail(id: id, with: .timeout(method: method, after: timeout))
                }
            }
        }
        let elapsed = ContinuousClock.now - started
        metrics.rpcLatency(method: method, nanoseconds: elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        switch result {
        case .success(let value): return value
        case .failure(let error):
            metrics.error(error.reason)
            throw error
        }
    }

    private func fail(id: Int64, with error: WatcherError) {
        let entry = state.withLock { $0.pending.removeValue(forKey: id) }
        entry?.continuation.resume(returning: .failure(error))
    }

    /// Handles one text message from the node (called on the connection's event loop, in order).
    private func received(_ text: String) {
        if text.utf8.count > limits.maxMessageBytes {
            metrics.error(.oversizedFrame)
            logger.warning("node sent an oversized message; dropped", metadata: ["bytes": "\(text.utf8.count)", "limit": "\(limits.maxMessageBytes)"])
            return
        }
        let message: JSONValue
        do {
            message = try JSONValue.parse(text)
        } catch {
            metrics.error(.malformedJSON)
            logger.warning("node sent malformed JSON; dropped", metadata: ["error": "\(error)", "start": "\(text.prefix(80))"])
            return
        }
        if let idValue = message["id"], idValue != .null {
            guard case .integer(let id) = idValue else {
                metrics.error(.unexpectedResponse)
                return
            }
            let entry: (method: String, topic: SubscriptionTopic?, continuation: CheckedContinuation<Result<JSONValue, WatcherError>, Never>)? = state.withLock { state in
                guard let entry = state.pending.removeValue(forKey: id) else { return nil }
                if let topic = entry.topic, case .string(let subscription)? = message["result"] {
                    state.subscriptions[subscription] = topic
                }
                return entry
            }
            guard let entry else {
                metrics.error(.unexpectedResponse)
                logger.debug("answer to an unknown or timed-out request", metadata: ["id": "\(id)"])
                return
            }
            if let error = message["error"] {
                var code: Int64 = 0
                if case .integer(let value)? = error["code"] { code = value }
                var text = error.rendered()
                if case .string(let value)? = error["message"] { text = value }
                entry.continuation.resume(returning: .failure(.rpc(method: entry.method, code: code, message: text)))
            } else if let result = message["result"] {
                entry.continuation.resume(returning: .success(result))
            } else {
                entry.continuation.resume(returning: .failure(.invalidResponse(method: entry.method, detail: "neither result nor error")))
            }
            return
        }
        guard case .string(let method)? = message["method"], let params = message["params"],
              case .string(let subscription)? = params["subscription"], let result = params["result"] else {
            metrics.error(.unknownNotification)
            logger.warning("node sent a message that is neither an answer nor a notification", metadata: ["start": "\(text.prefix(80))"])
            return
        }
        let topic = state.withLock { $0.subscriptions[subscription] }
        let expected: String? = switch topic {
        case .heads(.newHeads): "chain_newHead"
        case .heads(.allHeads): "chain_allHead"
        case .heads(.finalizedHeads): "chain_finalizedHead"
        case .runtimeVersion: "state_runtimeVersion"
        case nil: nil
        }
        guard let topic, method == expected else {
            metrics.error(.unknownNotification)
            logger.warning("unknown notification", metadata: ["method": "\(method)", "subscription": "\(subscription)"])
            return
        }
        switch topic {
        case .heads(let kind): continuation.yield(.header(kind, result))
        case .runtimeVersion: continuation.yield(.runtimeVersion(result))
        }
    }

    private func closed() {
        let pending = state.withLock { state in
            state.closed = true
            defer { state.pending = [:] }
            return Array(state.pending.values)
        }
        for entry in pending { entry.continuation.resume(returning: .failure(.disconnected)) }
        continuation.finish()
    }
}
