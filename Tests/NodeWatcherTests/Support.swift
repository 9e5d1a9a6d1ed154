import Foundation
import Logging
import Synchronization
@testable import node_watcher
@testable import devnode
@testable import SubstrateRuntime
@testable import SubstratePrimitives
@testable import WorkerRuntime
@testable import Wire
import TestKit

/// A stand-in for the fork-worker: binds the PULL at blocks.sock and the ROUTER at fetch.sock in a fresh
/// state directory, collects what the watcher pushes and sends it fetch requests.
final class FakeForkWorker: Sendable {
    let stateDirectory: String
    private let bus: BusLoop
    private let seen = Mutex<[BlockSeen]>([])
    private let statuses = Mutex<[NodeStatus]>([])
    private let dealerStatuses = Mutex<[(routingID: [UInt8], status: NodeStatus)]>([])
    private let answers = Mutex<[UInt64: BlockData]>([:])
    private let peer = Mutex<[UInt8]?>(nil)
    private let writer = Mutex(EnvelopeWriter(sender: "fork-worker"))
    private let nextID = Atomic<UInt64>(1)

    init() throws {
        stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("nw-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        bus = try BusLoop(name: "fake-fork", sockets: [
            SocketSpec(name: "blocks-in", kind: .pull, attachments: [.bind("ipc://\(stateDirectory)/blocks.sock")], inboxCapacity: 100_000),
            SocketSpec(name: "fetch-router", kind: .router, attachments: [.bind("ipc://\(stateDirectory)/fetch.sock")], inboxCapacity: 100_000),
        ], logger: Logger(label: "test"))
        let pull = bus.sockets[0], router = bus.sockets[1]
        let bus = self.bus
        Task { [self] in
            var reader = EnvelopeReader(socket: "blocks-in")
            for await frame in bus.inbox(pull) {
                guard let envelope = reader.open(frame.payload) else { continue }
                if let message = try? envelope.decode(BlockSeen.self) { self.seen.withLock { $0.append(message) } }
                if let message = try? envelope.decode(NodeStatus.self) { self.statuses.withLock { $0.append(message) } }
            }
        }
        Task { [self] in
            var reader = EnvelopeReader(socket: "fetch-router")
            for await frame in bus.inbox(router) {
                guard let envelope = reader.open(frame.payload) else { continue }
                if let routingID = frame.routingID { self.peer.withLock { $0 = routingID } }
                if let status = try? envelope.decode(NodeStatus.self) {
                    self.dealerStatuses.withLock { $0.append((frame.routingID ?? [], status)) }
                }
                if let data = try? envelope.decode(BlockData.self) { self.answers.withLock { $0[data.requestID] = data } }
            }
        }
    }

    var blocksSeen: [BlockSeen] { seen.withLock { $0 } }
    var nodeStatuses: [NodeStatus] { statuses.withLock { $0 } }
    var statusesOnDealer: [(routingID: [UInt8], status: NodeStatus)] { dealerStatuses.withLock { $0 } }

    func heights(_ kind: SubscriptionKind) -> [UInt64] {
        blocksSeen.filter { $0.subscription == kind }.compactMap { try? BlockHeader(scale: $0.header).number }
    }

    /// Sends a request to the watcher (its routing id learnt from its first NodeStatus) and waits for the answer.
    func fetch(_ kind: FetchKind, hash: [UInt8], count: UInt32 = 1, height: UInt64? = nil, timeout: Duration = .seconds(10)) async throws -> BlockData.Outcome {
        guard let routingID = peer.withLock({ $0 }) else { throw TestFailure("the watcher has not said hello on the DEALER") }
        let id = nextID.add(1, ordering: .relaxed).newValue
        let request = FetchRequest(requestID: id, kind: kind, blockHash: hash, count: count, height: height)
        let frame = try writer.withLock { writer throws(EnvelopeError) in try writer.seal(request) }
        try bus.send(frame, routingID: routingID, on: bus.sockets[1])
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let answer = answers.withLock({ $0.removeValue(forKey: id) }) { return answer.outcome }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw TestFailure("no answer to \(kind) within \(timeout)")
    }

    /// Sends many requests at once and waits for all answers (pipelining).
    func fetchAll(_ requests: [(FetchKind, [UInt8])], timeout: Duration = .seconds(60)) async throws -> [BlockData.Outcome] {
        guard let routingID = peer.withLock({ $0 }) else { throw TestFailure("no watcher") }
        var ids: [UInt64] = []
        for (kind, hash) in requests {
            let id = nextID.add(1, ordering: .relaxed).newValue
            ids.append(id)
            let frame = try writer.withLock { writer throws(EnvelopeError) in try writer.seal(FetchRequest(requestID: id, kind: kind, blockHash: hash)) }
            var sent = false
            for _ in 0 ..< 10_000 where !sent {
                sent = (try? bus.send(frame, routingID: routingID, on: bus.sockets[1])) != nil
                if !sent { try await Task.sleep(for: .milliseconds(1)) }
            }
        }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let done = answers.withLock { answers in ids.allSatisfy { answers[$0] != nil } }
            if done { return answers.withLock { answers in ids.map { answers.removeValue(forKey: $0)!.outcome } } }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw TestFailure("not all \(ids.count) answers arrived within \(timeout)")
    }

    func close() async {
        bus.close()
        await bus.closed()
        try? FileManager.default.removeItem(atPath: stateDirectory)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A watcher running in-process against `url`, reporting to `fork`.
final class RunningWatcher: Sendable {
    let watcher: NodeWatcher
    let shutdown = ShutdownSignal()
    private let task: Task<Void, Never>

    init(url: String, fork: FakeForkWorker, limits: ConnectionLimits = ConnectionLimits(), trustRootsFile: String? = nil,
         name: String = "node-watcher-0") throws {
        var settings = WatcherSettings(nodeURL: url, workerName: name, stateDirectory: fork.stateDirectory)
        settings.limits = limits
        settings.trustRootsFile = trustRootsFile
        settings.statusInterval = .milliseconds(200)
        var logger = Logger(label: "watcher-test")
        logger.logLevel = .error
        watcher = try NodeWatcher(settings: settings, logger: logger)
        let watcher = self.watcher, shutdown = self.shutdown
        task = Task { await watcher.run(shutdown: shutdown) }
    }

    var metrics: WatcherMetrics { watcher.metrics }

    func stop() async {
        shutdown.request(reason: "test")
        await task.value
    }
}

/// A devnode running in-process on a free port.
func startDevnode(_ scenario: Scenario, tls: NIOSSLContextBox? = nil, port: Int = 0) async throws -> (Devnode, String, Int) {
    let devnode = Devnode(scenario: scenario)
    let ports = try await devnode.start(firstPort: port, tls: tls?.context)
    return (devnode, "\(tls == nil ? "ws" : "wss")://127.0.0.1:\(ports[0])", ports[0])
}

import NIOSSL

/// Carries an `NIOSSLContext` into helpers.
struct NIOSSLContextBox: Sendable {
    let context: NIOSSLContext
}
