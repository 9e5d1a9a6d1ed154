import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// Serves a `FakeSinkService` over real HTTP/1.1 on 127.0.0.1, for tests that run a notifier process or the
/// libcurl client: Slack at `slackAPI`, webhooks at `webhook(_:)`, Uptime Kuma at `push(_:)`.
public final class FakeSinkServer: Sendable {
    public let service: FakeSinkService
    public let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: NIOLockedValueBox<(any Channel)?>

    /// Listens on `port` (0 picks a free one). With `delayStart`, nothing listens until that much time has
    /// passed (connections are refused meanwhile); `port` must then be given.
    public init(service: FakeSinkService, port: Int = 0, delayStart: Duration = .zero) throws {
        self.service = service
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        channel = NIOLockedValueBox(nil)
        if delayStart > .zero {
            guard port != 0 else { throw TestKitError.setup("FakeSinkServer: delayStart needs a fixed port") }
            self.port = port
            let box = channel
            let group = self.group
            let nanos = Int64(delayStart.components.seconds) * 1_000_000_000 + delayStart.components.attoseconds / 1_000_000_000
            _ = group.next().scheduleTask(in: .nanoseconds(nanos)) {
                Self.bootstrap(group: group, service: service).bind(host: "127.0.0.1", port: port).whenSuccess { bound in
                    box.withLockedValue { $0 = bound }
                }
            }
        } else {
            let bound = try Self.bootstrap(group: group, service: service).bind(host: "127.0.0.1", port: port).wait()
            self.port = bound.localAddress?.port ?? port
            channel.withLockedValue { $0 = bound }
        }
    }

    private static func bootstrap(group: MultiThreadedEventLoopGroup, service: FakeSinkService) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(FakeSinkHandler(service: service))
                }
            }
    }

    deinit { stop() }

    public var base: String { "http://127.0.0.1:\(port)" }
    public var slackAPI: String { base + "/api/" }
    public func webhook(_ name: String = "a") -> String { base + "/hook/\(name)" }
    public func push(_ name: String = "kuma") -> String { base + "/push/\(name)" }

    public func stop() {
        let bound = channel.withLockedValue { c -> (any Channel)? in defer { c = nil }; return c }
        try? bound?.close().wait()
        try? group.syncShutdownGracefully()
    }
}

/// Collects one request (head and body), asks the service, and answers after the service's delay.
private final class FakeSinkHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let service: FakeSinkService
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    init(service: FakeSinkService) { self.service = service }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            guard let head else { return }
            var headers: [String: String] = [:]
            for (name, value) in head.headers { headers[name.lowercased()] = value }
            let request = FakeRequest(method: head.method.rawValue, url: "http://fake" + head.uri, headers: headers,
                                      body: Data(body.readableBytesView))
            let answer = service.respond(to: request)
            let keepAlive = head.isKeepAlive
            let version = head.version
            let loop = context.eventLoop.assumeIsolated()
            if answer.delay > .zero {
                let nanos = Int64(answer.delay.components.seconds) * 1_000_000_000 + answer.delay.components.attoseconds / 1_000_000_000
                loop.scheduleTask(in: .nanoseconds(nanos)) { self.write(answer, version: version, keepAlive: keepAlive, context: context) }
            } else {
                write(answer, version: version, keepAlive: keepAlive, context: context)
            }
        }
    }

    private func write(_ answer: FakeResponse, version: HTTPVersion, keepAlive: Bool, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: "\(answer.body.count)")
        for (name, value) in answer.headers { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .init(statusCode: answer.status), headers: headers))),
                      promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: answer.body.count)
        buffer.writeBytes(answer.body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive { done.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
    }
}
