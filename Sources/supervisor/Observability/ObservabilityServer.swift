import Dispatch
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import WorkerRuntime
import Wire
import ControlPlane
import Store
import SubstrateRuntime
import SubstratePrimitives

/// One HTTP answer.
struct HTTPAnswer: Sendable, Equatable {
    var status: HTTPResponseStatus
    var contentType: String
    var body: [UInt8]
    var extraHeaders: [(String, String)] = []

    static func == (a: HTTPAnswer, b: HTTPAnswer) -> Bool {
        a.status == b.status && a.contentType == b.contentType && a.body == b.body
            && a.extraHeaders.map { "\($0.0): \($0.1)" } == b.extraHeaders.map { "\($0.0): \($0.1)" }
    }

    static func text(_ status: HTTPResponseStatus, _ text: String) -> HTTPAnswer {
        HTTPAnswer(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8))
    }
}

/// The endpoints, as a pure function of method and URI over a `StatusService`-like provider, so that the
/// routing is tested without sockets.
struct ObservabilityRoutes: Sendable {
    var metrics: @Sendable () -> String
    var status: @Sendable () -> StatusDocument

    func answer(method: HTTPMethod, uri: String) -> HTTPAnswer {
        guard method == .GET || method == .HEAD else {
            var answer = HTTPAnswer.text(.methodNotAllowed, "only GET and HEAD are supported\n")
            answer.extraHeaders = [("Allow", "GET, HEAD")]
            return answer
        }
        guard uri.hasPrefix("/"), uri.utf8.count <= 2048 else { return .text(.badRequest, "bad request target\n") }
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        switch path {
        case "/metrics":
            return HTTPAnswer(status: .ok, contentType: Exposition.contentType, body: Array(metrics().utf8))
        case "/health":
            let document = status()
            let body = HealthDocument(status: document.health.healthy ? "ok" : "unhealthy", reasons: document.health.reasons,
                                      workers: document.workers.map { "\($0.name) \($0.state)" },
                                      healthyNodes: document.nodes.filter { $0.state == "healthy" }.map(\.url))
            return HTTPAnswer(status: document.health.healthy ? .ok : .serviceUnavailable,
                              contentType: "application/json", body: StatusService.encode(body))
        case "/status":
            return HTTPAnswer(status: .ok, contentType: "application/json", body: StatusService.encode(status()))
        case "/", "/index.html":
            return HTTPAnswer(status: .ok, contentType: "text/html; charset=utf-8", body: Array(StatusPage.html.utf8))
        default:
            return .text(.notFound, "not found; try /, /metrics, /health or /status\n")
        }
    }
}

/// `/health`: why it is (un)healthy.
struct HealthDocument: Encodable, Sendable {
    var status: String
    var reasons: [String]
    var workers: [String]
    var healthyNodes: [String]

    enum CodingKeys: String, CodingKey {
        case status, reasons, workers
        case healthyNodes = "healthy_nodes"
    }
}

/// Why the HTTP server could not start.
enum ObservabilityServerError: Error, CustomStringConvertible {
    /// The host does not resolve: a configuration problem (exit 78).
    case badAddress(ListenAddress, String)
    /// Bind failed (address in use, permission): exit 1 with this message.
    case cannotListen(ListenAddress, String)

    var description: String {
        switch self {
        case .badAddress(let address, let detail): return "--http-listen \(address): \(detail)"
        case .cannotListen(let address, let detail): return "cannot listen on \(address) (--http-listen): \(detail)"
        }
    }
}

/// A small HTTP/1.1 server on one event-loop thread. Requests are answered on a serial dispatch queue (they
/// read snapshots and the store), never on the supervisor's loop; every answer closes the connection.
final class ObservabilityServer: Sendable {
    let group: MultiThreadedEventLoopGroup
    let channel: any Channel
    /// `HOST:PORT` actually bound (the port is the real one when 0 was asked for).
    let boundAddress: String

    static func start(listen: ListenAddress, routes: ObservabilityRoutes) throws(ObservabilityServerError) -> ObservabilityServer {
        let address: SocketAddress
        do {
            address = try SocketAddress.makeAddressResolvingHost(listen.host, port: listen.port)
        } catch {
            throw .badAddress(listen, "the host does not resolve (\(error)); write an IP address or a resolvable name, e.g. 127.0.0.1:9616")
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let queue = DispatchQueue(label: "chain-alerter.http")
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .seconds(10)))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(HTTPRequestHandler(routes: routes, queue: queue))
                }
            }
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
        do {
            let channel = try bootstrap.bind(to: address).wait()
            let local = channel.localAddress
            let host = local?.ipAddress ?? listen.host
            let port = local?.port ?? listen.port
            let bound = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            return ObservabilityServer(group: group, channel: channel, boundAddress: bound)
        } catch {
            try? group.syncShutdownGracefully()
            let detail: String
            if let io = error as? IOError, io.errnoCode == EADDRINUSE {
                detail = "the address is already in use (another chain-alerter, or another program, listens there); stop it or choose another --http-listen"
            } else if let io = error as? IOError, io.errnoCode == EACCES {
                detail = "permission denied (ports below 1024 need privileges); choose another --http-listen"
            } else if let io = error as? IOError, io.errnoCode == EADDRNOTAVAIL {
                detail = "no local interface has that address; choose another --http-listen"
            } else {
                detail = "\(error)"
            }
            throw .cannotListen(listen, detail)
        }
    }

    private init(group: MultiThreadedEventLoopGroup, channel: any Channel, boundAddress: String) {
        self.group = group
        self.channel = channel
        self.boundAddress = boundAddress
    }

    /// Writes `boundAddress` to `<stateDirectory>/http-address` (atomically), for tests and scripts.
    func writeAddressFile(stateDirectory: String) throws {
        try (boundAddress + "\n").write(toFile: stateDirectory + "/http-address", atomically: true, encoding: .utf8)
    }

    func close() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }
}

/// Reads one request (head; the body is ignored), answers it on `queue`, then closes the connection.
final class HTTPRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: ObservabilityRoutes
    private let queue: DispatchQueue
    private var head: HTTPRequestHead?
    private var answered = false

    init(routes: ObservabilityRoutes, queue: DispatchQueue) {
        self.routes = routes
        self.queue = queue
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head, !answered else { return }
            answered = true
            let routes = self.routes
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            queue.async {
                let answer = routes.answer(method: head.method, uri: head.uri)
                eventLoop.execute {
                    let (handler, context) = bound.value
                    handler.write(answer, head: head, context: context)
                }
            }
        }
    }

    private func write(_ answer: HTTPAnswer, head request: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: answer.contentType)
        headers.add(name: "Content-Length", value: "\(answer.body.count)")
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "Connection", value: "close")
        for (name, value) in answer.extraHeaders { headers.add(name: name, value: value) }
        let version = request.version.major == 1 ? request.version : .http1_1
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: answer.status, headers: headers))), promise: nil)
        if request.method != .HEAD, !answer.body.isEmpty {
            var buffer = context.channel.allocator.buffer(capacity: answer.body.count)
            buffer.writeBytes(answer.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // HTTPServerProtocolErrorHandler (before this handler) already answered 400 to a malformed request.
        context.close(promise: nil)
    }
}
