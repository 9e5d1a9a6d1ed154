import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import Synchronization
import SubstrateRuntime
import SubstratePrimitives
import WorkerRuntime

/// One WebSocket JSON-RPC listener of the devnode, serving one simulated node of the chain.
///
/// Implements the legacy Substrate methods the node-watcher uses, plus `devnode_injectFault` (tests).
/// Faults are sent to this node's connections when the scenario reaches their height, or on request.
final class DevServer: Sendable {
    let chain: DevChain
    let node: Scenario.Node
    let group: any EventLoopGroup
    private let connections = Mutex<[ObjectIdentifier: DevConnection]>([:])
    private let channel = Mutex<(any Channel)?>(nil)
    private let nextSubscription = Atomic<UInt64>(1)
    /// Requests answered so far (for tests and logs).
    let requests = Atomic<Int>(0)

    init(chain: DevChain, node: Scenario.Node, group: any EventLoopGroup) {
        self.chain = chain
        self.node = node
        self.group = group
        chain.addListener { [weak self] event in self?.announce(event) }
    }

    /// Listens on `host:port` (0 = any free port) and returns the bound port.
    func start(host: String = "127.0.0.1", port: Int, tls: NIOSSLContext? = nil) async throws -> Int {
        let server = self
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: 1 << 24, automaticErrorHandling: true,
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
            upgradePipelineHandler: { channel, _ in
                do {
                    try channel.pipeline.syncOperations.addHandler(RPCFrameHandler(server: server))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            })
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                do {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        let bound = try await bootstrap.bind(host: host, port: port).get()
        channel.withLock { $0 = bound }
        return bound.localAddress?.port ?? port
    }

    /// Stops listening and drops every connection (as a killed node would).
    func stop() async {
        let listener = channel.withLock { channel -> (any Channel)? in
            defer { channel = nil }
            return channel
        }
        try? await listener?.close()
        dropConnections()
    }

    var connectionCount: Int { connections.withLock { $0.count } }

    func register(_ connection: DevConnection) { connections.withLock { $0[ObjectIdentifier(connection)] = connection } }
    func unregister(_ connection: DevConnection) { connections.withLock { $0[ObjectIdentifier(connection)] = nil } }

    func dropConnections() {
        for connection in connections.withLock({ Array($0.values) }) { connection.channel.close(promise: nil) }
    }

    // MARK: notifications

    /// Blocks this node is behind now (`lag_blocks` until the chain reaches `lag_until`).
    var lagBlocks: Int {
        guard let lag = node.lagBlocks else { return 0 }
        if let until = node.lagUntil, chain.best.number >= until { return 0 }
        return lag
    }

    private var delay: TimeAmount {
        let lag = lagBlocks * chain.scenario.blockIntervalMilliseconds
        return .milliseconds(Int64((node.delayMilliseconds ?? 0) + lag))
    }

    /// How long this node takes to answer an RPC call now (`rpc_delay_ms` between `rpc_delay_from` and `rpc_delay_until`).
    var rpcDelay: TimeAmount {
        guard let ms = node.rpcDelayMilliseconds, ms > 0 else { return .zero }
        let height = chain.best.number
        if let from = node.rpcDelayFrom, height < from { return .zero }
        if let until = node.rpcDelayUntil, height >= until { return .zero }
        return .milliseconds(Int64(ms))
    }

    private let stopped = Atomic<Bool>(false)

    private func announce(_ event: ChainEvent) {
        let all = connections.withLock { Array($0.values) }
        switch event {
        case .imported(let block, let best, let only):
            if let stopAt = node.stopAt, best, block.number >= stopAt {
                // The node goes away as if killed: no more listener, every connection dropped.
                if stopped.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged {
                    say("devnode: node \(node.name) stopped at block \(block.number)")
                    Task { await self.stop() }
                }
                return
            }
            if stopped.load(ordering: .relaxed) { return }
            if let only, only != node.name { return }
            let header = Self.headerJSON(block.header)
            for connection in all {
                for (id, kind) in connection.subscriptions() where kind == .allHeads || (best && kind == .newHeads) {
                    connection.send(Self.notification(kind.notificationMethod, id, header), after: delay)
                }
            }
        case .finalized(let block):
            let header = Self.headerJSON(block.header)
            for connection in all {
                for (id, kind) in connection.subscriptions() where kind == .finalizedHeads {
                    connection.send(Self.notification(kind.notificationMethod, id, header), after: delay)
                }
            }
        case .runtimeUpgraded(let spec):
            for connection in all {
                for (id, kind) in connection.subscriptions() where kind == .runtimeVersion {
                    connection.send(Self.notification(kind.notificationMethod, id, Self.runtimeVersionJSON(spec)), after: delay)
                }
            }
        case .fault(let fault):
            if fault.node == nil || fault.node == node.name { inject(fault) }
        case .ended:
            break
        }
    }

    /// The header this node would show as best when it is `lagBlocks` behind.
    private func lagged(_ best: DevBlock) -> BlockHeader {
        let height = best.number > UInt64(lagBlocks) ? best.number - UInt64(lagBlocks) : 0
        return chain.canonicalHash(height).flatMap { chain.block($0) }?.header ?? best.header
    }

    /// Sends `fault` to every connection of this node.
    func inject(_ fault: Scenario.Fault) {
        let all = connections.withLock { Array($0.values) }
        for connection in all {
            switch fault.kind {
            case "malformed_json":
                connection.send(#"{"jsonrpc":"2.0","method":"chain_newHead","params":{"subscription":"#)
            case "unknown_notification":
                connection.send(#"{"jsonrpc":"2.0","method":"devnode_mystery","params":{"subscription":"zz","result":1}}"#)
            case "truncated_scale":
                for (id, kind) in connection.subscriptions() where kind == .newHeads {
                    var header = Self.headerJSON(chain.best.header)
                    if case .object(var members) = header {
                        members = members.map { $0.0 == "digest" ? ("digest", .object([("logs", .array([.string("0x0653")]))])) : $0 }
                        header = .object(members)
                    }
                    connection.send(Self.notification(kind.notificationMethod, id, header))
                }
            case "oversized_frame":
                connection.send(String(repeating: " ", count: fault.size ?? (20 << 20)) + "{}")
            case "drop_connection":
                connection.channel.close(promise: nil)
            case "rpc_error":
                connection.failNextRequests.add(1, ordering: .relaxed)
            case "ignore_request":
                connection.ignoreNextRequests.add(1, ordering: .relaxed)
            default:
                break
            }
        }
    }

    // MARK: JSON-RPC

    /// The answer to one request text, or nil for none.
    func handle(_ text: String, on connection: DevConnection) -> String? {
        requests.add(1, ordering: .relaxed)
        guard let request = try? JSONValue.parse(text), case .string(let method)? = request["method"] else {
            return JSONValue.object([("jsonrpc", .string("2.0")), ("id", .null),
                                     ("error", .object([("code", .integer(-32700)), ("message", .string("Parse error"))]))]).rendered()
        }
        let id = request["id"] ?? .null
        let params: [JSONValue] = if case .array(let items)? = request["params"] { items } else { [] }
        func reply(_ result: JSONValue) -> String {
            JSONValue.object([("jsonrpc", .string("2.0")), ("id", id), ("result", result)]).rendered()
        }
        func error(_ code: Int64, _ message: String) -> String {
            JSONValue.object([("jsonrpc", .string("2.0")), ("id", id),
                              ("error", .object([("code", .integer(code)), ("message", .string(message))]))]).rendered()
        }
        if connection.ignoreNextRequests.load(ordering: .relaxed) > 0 {
            connection.ignoreNextRequests.subtract(1, ordering: .relaxed)
            return nil
        }
        if connection.failNextRequests.load(ordering: .relaxed) > 0 {
            connection.failNextRequests.subtract(1, ordering: .relaxed)
            return error(-32000, "devnode injected fault")
        }
        func hashParam(_ index: Int) -> [UInt8]?? {
            guard index < params.count, case .string(let text) = params[index] else { return .some(nil) }
            guard let bytes = Hex.decode(text), bytes.count == 32 else { return nil }
            return .some(bytes)
        }
        func blockAt(_ index: Int) -> DevBlock?? {
            guard let hash = hashParam(index) else { return nil }
            guard let hash else { return .some(chain.best) }
            return .some(chain.block(hash))
        }
        switch method {
        case "system_chain": return reply(.string(DevRuntime.chainName))
        case "system_name": return reply(.string("devnode"))
        case "system_version": return reply(.string("0.1.0"))
        case "system_properties":
            return reply(.object([("ss58Format", .integer(Int64(DevRuntime.ss58Prefix))), ("tokenDecimals", .integer(Int64(DevRuntime.tokenDecimals))),
                                  ("tokenSymbol", .string(DevRuntime.tokenSymbol))]))
        case "chain_getBlockHash":
            if params.isEmpty || params[0] == .null { return reply(.string(Hex.encode(chain.best.hash))) }
            let height: UInt64?
            switch params[0] {
            case .integer(let n) where n >= 0: height = UInt64(n)
            case .string(let s) where s.hasPrefix("0x"): height = UInt64(s.dropFirst(2), radix: 16)
            default: height = nil
            }
            guard let height else { return error(-32602, "Invalid params: block number") }
            return reply(chain.canonicalHash(height).map { .string(Hex.encode($0)) } ?? .null)
        case "chain_getFinalizedHead":
            return reply(.string(Hex.encode(chain.finalized.hash)))
        case "chain_getHeader":
            guard let block = blockAt(0) else { return error(-32602, "Invalid params: block hash") }
            return reply(block.map { Self.headerJSON($0.header) } ?? .null)
        case "chain_getBlock":
            guard let block = blockAt(0) else { return error(-32602, "Invalid params: block hash") }
            guard let block else { return reply(.null) }
            return reply(.object([("block", .object([("header", Self.headerJSON(block.header)),
                                                      ("extrinsics", .array(block.extrinsics.map { .string(Hex.encode($0)) }))])),
                                  ("justifications", .null)]))
        case "state_getStorage":
            guard case .string(let keyText)? = params.first, let key = Hex.decode(keyText) else { return error(-32602, "Invalid params: storage key") }
            guard let block = blockAt(1) else { return error(-32602, "Invalid params: block hash") }
            guard let block else { return error(4003, "Client error: UnknownBlock: header not found") }
            if key == StorageKey.plain(pallet: "System", item: "Events") { return reply(.string(Hex.encode(block.events))) }
            return reply(.null)
        case "state_getMetadata":
            guard let block = blockAt(0) else { return error(-32602, "Invalid params: block hash") }
            guard let block else { return error(4003, "Client error: UnknownBlock: header not found") }
            return reply(.string(Hex.encode(chain.metadata(specVersion: block.specVersion))))
        case "state_getRuntimeVersion", "chain_getRuntimeVersion":
            guard let block = blockAt(0) else { return error(-32602, "Invalid params: block hash") }
            guard let block else { return error(4003, "Client error: UnknownBlock: header not found") }
            return reply(Self.runtimeVersionJSON(block.specVersion))
        case "chain_subscribeNewHeads", "chain_subscribeAllHeads", "chain_subscribeFinalizedHeads", "state_subscribeRuntimeVersion":
            let kind: DevConnection.Subscription = switch method {
            case "chain_subscribeNewHeads": .newHeads
            case "chain_subscribeAllHeads": .allHeads
            case "chain_subscribeFinalizedHeads": .finalizedHeads
            default: .runtimeVersion
            }
            let subscription = "\(node.name)-\(nextSubscription.add(1, ordering: .relaxed).newValue)"
            connection.subscribe(subscription, kind)
            // Like a real node: the current best/finalized head and runtime version follow the subscription at once.
            let initial: JSONValue? = switch kind {
            case .newHeads: Self.headerJSON(lagBlocks > 0 ? lagged(chain.best) : chain.best.header)
            case .finalizedHeads: Self.headerJSON(chain.finalized.header)
            case .runtimeVersion: Self.runtimeVersionJSON(chain.currentSpecVersion)
            case .allHeads: nil
            }
            if let initial { connection.send(Self.notification(kind.notificationMethod, subscription, initial), after: .milliseconds(1)) }
            return reply(.string(subscription))
        case "chain_unsubscribeNewHeads", "chain_unsubscribeAllHeads", "chain_unsubscribeFinalizedHeads", "state_unsubscribeRuntimeVersion":
            guard case .string(let subscription)? = params.first else { return error(-32602, "Invalid params: subscription id") }
            return reply(.bool(connection.unsubscribe(subscription)))
        case "devnode_injectFault":
            guard case .string(let kind)? = params.first, Scenario.faultKinds.contains(kind) else {
                return error(-32602, "Invalid params: fault kind, one of \(Scenario.faultKinds.sorted())")
            }
            var size: Int? = nil
            if params.count > 1, case .integer(let n) = params[1] { size = Int(n) }
            let fault = Scenario.Fault(at: chain.best.number, kind: kind, node: nil, size: size)
            let server = self
            connection.channel.eventLoop.scheduleTask(in: .milliseconds(5)) { server.inject(fault) }
            return reply(.bool(true))
        default:
            return error(-32601, "Method not found")
        }
    }

    static func notification(_ method: String, _ subscription: String, _ result: JSONValue) -> String {
        JSONValue.object([("jsonrpc", .string("2.0")), ("method", .string(method)),
                          ("params", .object([("subscription", .string(subscription)), ("result", result)]))]).rendered()
    }

    static func headerJSON(_ header: BlockHeader) -> JSONValue {
        .object([
            ("parentHash", .string(Hex.encode(header.parentHash))),
            ("number", .string("0x" + String(header.number, radix: 16))),
            ("stateRoot", .string(Hex.encode(header.stateRoot))),
            ("extrinsicsRoot", .string(Hex.encode(header.extrinsicsRoot))),
            ("digest", .object([("logs", .array(header.digest.map { .string(Hex.encode($0.encoded)) }))])),
        ])
    }

    static func runtimeVersionJSON(_ specVersion: UInt32) -> JSONValue {
        .object([
            ("specName", .string(DevRuntime.specName)), ("implName", .string("subspace-devnode")), ("authoringVersion", .integer(0)),
            ("specVersion", .integer(Int64(specVersion))), ("implVersion", .integer(0)), ("apis", .array([])),
            ("transactionVersion", .integer(Int64(DevRuntime.transactionVersion))), ("stateVersion", .integer(1)),
        ])
    }
}

/// One client connection: its subscriptions and a thread-safe way to send it text frames.
final class DevConnection: Sendable {
    /// A subscription kind and the notification method it uses.
    enum Subscription: Sendable {
        case newHeads, allHeads, finalizedHeads, runtimeVersion

        var notificationMethod: String {
            switch self {
            case .newHeads: "chain_newHead"
            case .allHeads: "chain_allHead"
            case .finalizedHeads: "chain_finalizedHead"
            case .runtimeVersion: "state_runtimeVersion"
            }
        }
    }

    let channel: any Channel
    private let subscriptionTable = Mutex<[String: Subscription]>([:])
    let failNextRequests = Atomic<Int>(0)
    let ignoreNextRequests = Atomic<Int>(0)

    init(channel: any Channel) {
        self.channel = channel
    }

    func subscriptions() -> [(String, Subscription)] { subscriptionTable.withLock { $0.map { ($0.key, $0.value) } } }
    func subscribe(_ id: String, _ kind: Subscription) { subscriptionTable.withLock { $0[id] = kind } }
    func unsubscribe(_ id: String) -> Bool { subscriptionTable.withLock { $0.removeValue(forKey: id) != nil } }

    func send(_ text: String, after delay: TimeAmount = .zero) {
        let channel = self.channel
        var buffer = channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        let frame = WebSocketFrame(fin: true, opcode: .text, data: buffer)
        if delay == .zero {
            channel.writeAndFlush(frame, promise: nil)
        } else {
            channel.eventLoop.scheduleTask(in: delay) { channel.writeAndFlush(frame, promise: nil) }
        }
    }
}

/// Reads text frames (reassembling fragments), answers them, and handles ping/close.
final class RPCFrameHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let server: DevServer
    private var connection: DevConnection?
    private var pending: ByteBuffer?

    init(server: DevServer) {
        self.server = server
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let connection = DevConnection(channel: context.channel)
        self.connection = connection
        server.register(connection)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let connection { server.unregister(connection) }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .continuation:
            if pending == nil {
                pending = frame.unmaskedData
            } else {
                var data = frame.unmaskedData
                pending!.writeBuffer(&data)
            }
            guard frame.fin, let buffer = pending, let connection else { return }
            pending = nil
            let text = String(buffer: buffer)
            if let response = server.handle(text, on: connection) {
                let delay = server.rpcDelay
                if delay != .zero {
                    connection.send(response, after: delay)
                    return
                }
                var out = context.channel.allocator.buffer(capacity: response.utf8.count)
                out.writeString(response)
                context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: out)), promise: nil)
            }
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            var data = frame.unmaskedData
            let code = data.readWebSocketErrorCode() ?? .normalClosure
            var buffer = context.channel.allocator.buffer(capacity: 2)
            buffer.write(webSocketErrorCode: code)
            let close = WebSocketFrame(fin: true, opcode: .connectionClose, data: buffer)
            context.writeAndFlush(wrapOutboundOut(close), promise: nil)
            context.close(promise: nil)
        default:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
